import type { GenerationParams } from '@mige/pipelines';
import type { RunRequest } from './history-store.js';

export interface RunState {
  status: 'idle' | 'submitting' | 'queued' | 'running' | 'done' | 'error' | 'cancelled';
  jobId?: string;
  position?: number;
  step?: number;
  total?: number;
  previews?: string[];
  previewStep?: number;
  results?: string[];
  params?: GenerationParams[];
  seconds?: number;
  message?: string;
  request?: RunRequest;
}

export const isActive = (run: RunState): boolean => run.status === 'submitting' || run.status === 'queued' || run.status === 'running';

interface Props {
  run: RunState;
  onCancel(): void;
  onCopyCli(request: RunRequest): void;
}

function statusText(run: RunState): string {
  switch (run.status) {
    case 'idle':
      return 'Pick a mode and an example, or write an instruction, then Run.';
    case 'submitting':
      return 'Sending…';
    case 'queued':
      return `Queued: position ${run.position ?? '?'} (another job is running).`;
    case 'running':
      return run.total ? `Step ${run.step ?? 0} of ${run.total}` : 'Starting…';
    case 'done':
      return `Done in ${run.seconds?.toFixed(1) ?? '?'} s.`;
    case 'cancelled':
      return run.message && run.message !== 'cancelled by the user' ? `Cancelled: ${run.message}.` : 'Cancelled.';
    case 'error':
      return `Error: ${run.message ?? 'unknown'}`;
  }
}

/** Live status, progress bar and previews of the current job, then its results. */
export function RunPanel({ run, onCancel, onCopyCli }: Props) {
  const active = isActive(run);
  const inputs = run.request?.images ?? [];
  return (
    <section className="panel result-panel" aria-labelledby="result-heading">
      <h2 id="result-heading">Result</h2>
      <p className={`status status-${run.status}`} role="status" aria-live="polite" data-testid="status">
        {statusText(run)}
      </p>
      {(run.status === 'running' || run.status === 'queued') && (
        <div className="progress-row">
          <progress id="progress" max={run.total ?? 1} value={run.step ?? 0} aria-label="Sampling progress" data-testid="progress" />
          <button type="button" className="danger" onClick={onCancel} data-testid="cancel">
            Cancel <kbd>Esc</kbd>
          </button>
        </div>
      )}
      {active && run.previews && run.previews.length > 0 && (
        <div className="gallery previews" aria-label={`Preview at step ${run.previewStep ?? ''}`}>
          {run.previews.map((src, i) => (
            <img key={i} src={src} alt={`preview ${i + 1} at step ${run.previewStep ?? ''}`} data-testid="preview-image" />
          ))}
        </div>
      )}
      {run.status === 'done' && run.results && (
        <>
          <div className="gallery results">
            {run.results.map((src, i) => (
              <figure key={i}>
                <img src={src} alt={`result ${i + 1}, seed ${run.params?.[i]?.seed ?? ''}`} data-testid="result-image" />
                <figcaption>
                  seed {run.params?.[i]?.seed} ·{' '}
                  <a href={src} download={`mige-${run.params?.[i]?.flow ?? 'result'}-${run.params?.[i]?.seed ?? i}.png`}>
                    Download PNG
                  </a>
                </figcaption>
              </figure>
            ))}
          </div>
          {inputs.length > 0 && (
            <div className="inputs" aria-label="Inputs">
              <span className="note">Inputs:</span>
              {inputs.map((img, i) => (
                <img key={img.id} src={img.dataUrl} alt={`input ${i + 1}`} data-testid="input-image" />
              ))}
            </div>
          )}
          {run.request && (
            <button type="button" onClick={() => onCopyCli(run.request as RunRequest)}>
              Copy CLI command
            </button>
          )}
          {run.params?.[0] && (
            <details>
              <summary>Parameters</summary>
              <pre>{JSON.stringify(run.params[0], null, 2)}</pre>
            </details>
          )}
        </>
      )}
    </section>
  );
}
