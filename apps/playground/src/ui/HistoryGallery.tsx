import type { HistoryEntry, RunRequest } from './history-store.js';
import { InstructionText } from './InstructionText.js';

interface Props {
  entries: readonly HistoryEntry[];
  busy: boolean;
  onRerun(request: RunRequest): void;
  onCopyCli(request: RunRequest): void;
  onClear(): void;
}

function describe(r: RunRequest): string {
  const scales = r.flow === 'generate' ? `s_y ${r.scales.y}` : `s_y ${r.scales.y}, s_s ${r.scales.s}`;
  return `${r.presetId} · ${r.steps} steps · ${scales} · seed ${r.seed} · ${r.sampler}${r.numImages > 1 ? ` · ${r.numImages} images` : ''}`;
}

/** Finished runs (kept in this browser), newest first, with their exact parameters. */
export function HistoryGallery({ entries, busy, onRerun, onCopyCli, onClear }: Props) {
  return (
    <section className="panel history" aria-labelledby="history-heading">
      <div className="history-head">
        <h2 id="history-heading">History</h2>
        {entries.length > 0 && (
          <button type="button" onClick={onClear}>
            Clear history
          </button>
        )}
      </div>
      {entries.length === 0 ? (
        <p className="note">Finished runs appear here, kept in this browser.</p>
      ) : (
        <ol className="history-list">
          {entries.map((entry) => (
            <li key={entry.id} className="history-item" data-testid="history-item">
              <div className="gallery">
                {entry.results.map((src, i) => (
                  <a key={i} href={src} download={`mige-${entry.request.flow}-${entry.params[i]?.seed ?? i}.png`} title="Download PNG">
                    <img src={src} alt={`${entry.request.instruction}, result ${i + 1} (download)`} />
                  </a>
                ))}
              </div>
              <p className="history-instruction">
                <InstructionText text={entry.request.instruction} images={entry.request.images.map((i) => i.dataUrl)} />
              </p>
              <p className="note">
                {describe(entry.request)} · {entry.model} · {entry.seconds.toFixed(1)} s · <time dateTime={entry.createdAt}>{new Date(entry.createdAt).toLocaleString()}</time>
              </p>
              <div className="inline">
                <button type="button" disabled={busy || entry.inputsDropped} onClick={() => onRerun(entry.request)} title={entry.inputsDropped ? 'the inputs did not fit in storage' : undefined}>
                  Re-run
                </button>
                <button type="button" onClick={() => onCopyCli(entry.request)}>
                  Copy CLI command
                </button>
                <a className="button" href={entry.results[0]} download={`mige-${entry.request.flow}-${entry.params[0]?.seed ?? 0}.png`}>
                  Download PNG
                </a>
              </div>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
