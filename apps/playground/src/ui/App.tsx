import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import type { FlowName, InfoResponse, JobEvent, JobRequest, Preset, PresetExample, PresetId } from '../api/api-types.js';
import { cliCommand } from '../api/cli-command.js';
import { cancelJob, fetchInfo, submitJob, watchJob } from './api.js';
import { copyText } from './clipboard.js';
import { Controls, type ControlValues } from './Controls.js';
import { HistoryGallery } from './HistoryGallery.js';
import { loadHistory, saveHistory, type HistoryEntry, type RunRequest } from './history-store.js';
import { carriesFiles, fileToImage, imageFiles, newImageId, uniqueNames, type UiImage } from './images.js';
import { InstructionEditor, type InstructionEditorHandle } from './InstructionEditor.js';
import { Presets } from './Presets.js';
import { isActive, RunPanel, type RunState } from './RunPanel.js';
import { imageIds, instructionText, toSegments, type Segment } from './segments.js';

const PRESET_FLOW: Record<PresetId, FlowName> = { generate: 'generate', edit: 'edit', add: 'compose', replace: 'compose' };

const HINTS: Record<FlowName, string> = {
  generate: 'Each image is a subject; the instruction places it on a new canvas.',
  edit: 'One image: the source to edit.',
  compose: 'The source and one or more subjects: choose which image is the source.',
};

/** The settings a job request and its CLI command share. */
function sampling(r: RunRequest): Pick<RunRequest, 'steps' | 'scales' | 'seed' | 'numImages' | 'sampler'> {
  return { steps: r.steps, scales: r.scales, seed: r.seed, numImages: r.numImages, sampler: r.sampler };
}

function defaultsFor(info: InfoResponse | null, flow: FlowName, current: ControlValues): ControlValues {
  const d = info?.defaults[flow];
  return d ? { ...current, steps: d.steps, y: d.scales.y, s: d.scales.s, sampler: d.sampler } : current;
}

export function App() {
  const [info, setInfo] = useState<InfoResponse | null>(null);
  const [loadError, setLoadError] = useState<string | null>(null);
  const [presetId, setPresetId] = useState<PresetId>('edit');
  const [images, setImages] = useState<Record<string, UiImage>>({});
  const [segments, setSegments] = useState<Segment[]>([]);
  const [sourceSlot, setSourceSlot] = useState(0);
  const [controls, setControls] = useState<ControlValues>({ steps: 60, y: 5, s: 1, seed: 0, numImages: 1, sampler: 'dpm-solver' });
  const [run, setRun] = useState<RunState>({ status: 'idle' });
  const [history, setHistory] = useState<HistoryEntry[]>(loadHistory);
  const [notice, setNotice] = useState('');
  const editor = useRef<InstructionEditorHandle>(null);
  const fileInput = useRef<HTMLInputElement>(null);
  const stopWatching = useRef<(() => void) | null>(null);
  const flow = PRESET_FLOW[presetId];
  const hasSource = flow !== 'generate';

  useEffect(() => {
    fetchInfo()
      .then((i) => {
        setInfo(i);
        setControls((c) => defaultsFor(i, 'edit', c));
      })
      .catch((e: unknown) => setLoadError(e instanceof Error ? e.message : String(e)));
    return () => stopWatching.current?.();
  }, []);

  const ids = useMemo(() => imageIds(segments).filter((id) => images[id]), [segments, images]);
  const slot = hasSource && ids.length > 0 ? Math.min(sourceSlot, ids.length - 1) : null;

  const addFiles = useCallback(async (files: File[]) => {
    try {
      const added = await Promise.all(files.map(fileToImage));
      setImages((m) => ({ ...m, ...Object.fromEntries(added.map((i) => [i.id, i])) }));
      editor.current?.insertImages(added);
    } catch (e) {
      setNotice(e instanceof Error ? e.message : String(e));
    }
  }, []);

  // A pasted image anywhere on the page (outside text fields) goes into the instruction.
  useEffect(() => {
    const onPaste = (e: ClipboardEvent) => {
      const target = e.target as HTMLElement | null;
      if (target?.closest('input, textarea, [contenteditable="true"]')) return;
      const files = Array.from(e.clipboardData?.files ?? []).filter((f) => f.type.startsWith('image/'));
      if (files.length > 0) {
        e.preventDefault();
        void addFiles(files);
      }
    };
    document.addEventListener('paste', onPaste);
    return () => document.removeEventListener('paste', onPaste);
  }, [addFiles]);

  const selectPreset = (id: PresetId) => {
    setPresetId(id);
    setControls((c) => defaultsFor(info, PRESET_FLOW[id], c));
  };

  const loadRequest = (request: Pick<RunRequest, 'instruction' | 'images' | 'sourceSlot'>) => {
    const map = Object.fromEntries(request.images.map((i) => [i.id, i]));
    setImages((m) => ({ ...m, ...map }));
    editor.current?.setSegments(
      toSegments(
        request.instruction,
        request.images.map((i) => i.id),
      ),
      map,
    );
    setSourceSlot(request.sourceSlot ?? 0);
  };

  const loadExample = (preset: Preset, example: PresetExample, index: number) => {
    const loaded: UiImage[] = example.images.map((dataUrl, k) => ({
      id: newImageId(),
      name: k === example.sourceSlot ? `${preset.id}-${index + 1}-source.png` : `${preset.id}-${index + 1}-subject-${k + 1}.png`,
      dataUrl,
    }));
    selectPreset(preset.id);
    loadRequest({ instruction: example.instruction, images: loaded, sourceSlot: example.sourceSlot ?? null });
    setRun((r) => (isActive(r) ? r : { status: 'idle' }));
    setNotice(`Loaded example ${index + 1}: press Run (or Enter in the instruction).`);
  };

  const onEvent = useCallback((id: string, request: RunRequest, event: JobEvent) => {
    setRun((r) => {
      if (r.jobId !== id) return r;
      switch (event.type) {
        case 'queued':
          return { ...r, status: event.position > 0 ? 'queued' : 'running', position: event.position };
        case 'progress':
          return { ...r, status: 'running', step: event.step, total: event.total };
        case 'preview':
          return { ...r, previews: event.images, previewStep: event.step };
        case 'done':
          return { ...r, status: 'done', results: event.images, params: event.params, seconds: event.seconds };
        case 'error':
          return { ...r, status: 'error', message: event.message };
        case 'cancelled':
          return { ...r, status: 'cancelled', message: event.reason };
      }
    });
    if (event.type === 'done') {
      const entry: HistoryEntry = {
        id,
        createdAt: new Date().toISOString(),
        model: event.params[0]?.model ?? '',
        request,
        results: event.images,
        params: event.params,
        seconds: event.seconds,
      };
      setHistory((h) => saveHistory([entry, ...h.filter((e) => e.id !== id)]));
    }
  }, []);

  const start = async (request: RunRequest) => {
    if (isActive(run)) return;
    stopWatching.current?.();
    setRun({ status: 'submitting', request });
    const body: JobRequest = {
      flow: request.flow,
      instruction: request.instruction,
      images: request.images.map((i) => i.dataUrl),
      ...(request.flow === 'compose' && request.sourceSlot !== null ? { sourceSlot: request.sourceSlot } : {}),
      ...sampling(request),
    };
    try {
      const { id, position } = await submitJob(body);
      setRun({ status: position > 0 ? 'queued' : 'running', jobId: id, position, step: 0, total: request.steps, request });
      stopWatching.current = watchJob(id, (event) => onEvent(id, request, event));
    } catch (e) {
      setRun({ status: 'error', message: e instanceof Error ? e.message : String(e), request });
    }
  };

  const runCurrent = () => {
    const instruction = instructionText(segments);
    if (!instruction) {
      setRun({ status: 'error', message: 'write an instruction first (or load an example)' });
      editor.current?.focus();
      return;
    }
    void start({
      presetId,
      flow,
      instruction,
      images: ids.map((id) => images[id] as UiImage),
      sourceSlot: slot,
      steps: controls.steps,
      scales: { y: controls.y, s: controls.s },
      seed: controls.seed,
      numImages: controls.numImages,
      sampler: controls.sampler,
    });
  };

  const cancel = useCallback(() => {
    if (run.jobId && isActive(run)) void cancelJob(run.jobId);
  }, [run]);

  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (e.key === 'Escape') cancel();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, [cancel]);

  const rerun = (request: RunRequest) => {
    setPresetId(request.presetId);
    setControls({ steps: request.steps, y: request.scales.y, s: request.scales.s, seed: request.seed, numImages: request.numImages, sampler: request.sampler });
    loadRequest(request);
    void start(request);
  };

  const copyCli = async (request: RunRequest) => {
    const files = uniqueNames(request.images.map((i) => i.name));
    const command = cliCommand({
      flow: request.flow,
      instruction: request.instruction,
      imageFiles: files,
      ...(request.sourceSlot !== null ? { sourceSlot: request.sourceSlot } : {}),
      model: info?.model.cliArg ?? null,
      ...sampling(request),
    });
    try {
      await copyText(command);
      setNotice(`Copied: ${command}${files.length ? ` (save the inputs as ${files.join(', ')})` : ''}`);
    } catch {
      setNotice(`Copy this command: ${command}`);
    }
  };

  const removeImage = (id: string) => {
    editor.current?.setSegments(
      segments.filter((s) => !(s.kind === 'image' && s.id === id)),
      images,
    );
  };

  if (loadError) {
    return (
      <main className="app">
        <h1>MIGE playground</h1>
        <p role="alert">Could not reach the server: {loadError}</p>
      </main>
    );
  }

  return (
    <div className="app">
      <header className="app-header">
        <h1>MIGE playground</h1>
        {info && (
          <p className="note" data-testid="model">
            model <strong>{info.model.name}</strong> · {info.model.imageSize} px
          </p>
        )}
      </header>
      <main className="layout">
        <section className="panel input-panel" aria-labelledby="input-heading">
          <h2 id="input-heading">Instruction</h2>
          {info ? <Presets presets={info.presets} selected={presetId} onSelect={selectPreset} onExample={loadExample} /> : <p className="note">Loading…</p>}
          <div
            className="drop-zone"
            onDragOver={(e) => {
              if (carriesFiles(e.dataTransfer)) e.preventDefault();
            }}
            onDrop={(e) => {
              const files = imageFiles(e.dataTransfer);
              if (files.length === 0) return;
              e.preventDefault();
              void addFiles(files);
            }}
          >
            <span id="instruction-label" className="label">
              Instruction <span className="note">(Enter runs)</span>
            </span>
            <InstructionEditor
              ref={editor}
              id="instruction"
              images={images}
              sourceSlot={slot}
              onChange={setSegments}
              onSubmit={runCurrent}
              onFiles={(files) => void addFiles(files)}
              labelledBy="instruction-label"
              describedBy="instruction-help"
            />
            <p id="instruction-help" className="note">
              Type the instruction and add images where they belong: drop, paste or choose them, and each appears as a chip at the caret ({HINTS[flow]})
            </p>
            <div className="inline">
              <button type="button" onClick={() => fileInput.current?.click()}>
                Add image…
              </button>
              <input
                ref={fileInput}
                type="file"
                accept="image/png,image/jpeg,image/webp,image/gif"
                multiple
                hidden
                aria-label="Choose images"
                data-testid="file-input"
                onChange={(e) => {
                  void addFiles(Array.from(e.target.files ?? []));
                  e.target.value = '';
                }}
              />
            </div>
            {ids.length > 0 && (
              <ul className="image-list" aria-label="Images in the instruction">
                {ids.map((id, i) => (
                  <li key={id}>
                    <img src={images[id]?.dataUrl} alt="" />
                    <span>
                      {i + 1}. {images[id]?.name}
                    </span>
                    {hasSource && (
                      <label className="inline">
                        <input type="radio" name="source" checked={slot === i} onChange={() => setSourceSlot(i)} /> source
                      </label>
                    )}
                    <button type="button" onClick={() => removeImage(id)} aria-label={`Remove image ${i + 1}`}>
                      ✕
                    </button>
                  </li>
                ))}
              </ul>
            )}
          </div>
          {info && <Controls values={controls} info={info} hasSource={hasSource} onChange={setControls} />}
          <div className="actions">
            <button type="button" className="primary" onClick={runCurrent} disabled={!info || isActive(run)} data-testid="run">
              Run {flow}
            </button>
            {isActive(run) && (
              <button type="button" className="danger" onClick={cancel}>
                Cancel
              </button>
            )}
          </div>
          <p className="notice" role="status" aria-live="polite">
            {notice}
          </p>
        </section>
        <RunPanel run={run} onCancel={cancel} onCopyCli={(r) => void copyCli(r)} />
      </main>
      <HistoryGallery entries={history} busy={isActive(run)} onRerun={rerun} onCopyCli={(r) => void copyCli(r)} onClear={() => setHistory(saveHistory([]))} />
    </div>
  );
}
