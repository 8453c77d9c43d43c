import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { checkOnnxModel, MigeInputError, ONNX_OPSET, ProgressTracker, syncDirectory, writeSafetensors, writableFromTensors, type LongOperationOptions, type OnnxExternalTensor, type OnnxStreamedExternalModel } from '@mige/core';
import type { T5EncoderPart } from '@mige/encoder';
import { tempSibling } from '../model/atomic-files.js';
import type { MigeModel } from '../model/mige-model.js';
import type { ModelWeights } from '../model/weights.js';
import { ONNX_COMPONENTS, type OnnxComponent } from './components.js';
import { buildComponentGraph, hasComponent, type ComponentGraph } from './graphs.js';
import { ONNX_MANIFEST_FILE, ONNX_MANIFEST_FORMAT, ONNX_MANIFEST_VERSION, type OnnxComponentEntry, type OnnxGraphFile, type OnnxManifest } from './manifest.js';

export interface ExportOnnxOptions {
  /** Weight storage: 'fp32', or 'fp16' (half the size; the graphs cast weights to float32 and compute in float32). */
  dtype: 'fp32' | 'fp16';
  /** A symbolic 'batch' axis (default true); false fixes it at `batchSize`. */
  dynamicBatch?: boolean;
  /** The fixed batch when dynamicBatch is false (default 1). */
  batchSize?: number;
  /** The longest T5 input the t5-encoder takes (default config.encoder.maxLength). */
  t5MaxLength?: number;
  /** Export only these components (default all the model has; ffm needs FFM fusion). */
  components?: readonly OnnxComponent[];
  /**
   * Store weights in `<component>.onnx.data` beside the graph (ONNX external data): true, false,
   * or 'auto' (default): when a component's weights exceed 1 GiB, as protobuf caps a file at 2 GiB.
   */
  externalData?: boolean | 'auto';
  /**
   * Where the weights come from: default the model's own tensors. With a streamed source
   * (openModelFolderWeights, openCheckpointWeights) `model` may be a skeleton
   * (MigeModel.skeleton), and each tensor is read from its file and written out one at a time.
   */
  weights?: ModelWeights;
  /**
   * T5 blocks per t5-encoder graph: a number, or 'auto' (default): one graph while the encoder's
   * float32 weights stay under 2 GiB, else parts of at most 1 GiB each (T5-XXL: 24 parts of one
   * block), so a staged runtime holds one part's weights at a time.
   */
  t5BlocksPerGraph?: number | 'auto';
}

/** Above this many weight bytes 'auto' moves a component's weights to an external file. */
const AUTO_EXTERNAL_BYTES = 2 ** 30;
/** 'auto' splits a T5 encoder over this many float32 weight bytes, into parts of at most T5_PART_BYTES. */
const T5_SPLIT_BYTES = 2 * 2 ** 30;
const T5_PART_BYTES = 2 ** 30;
/** The null caption's file in the export folder and its one tensor. */
const NULL_CAPTION_FILE = 'null-caption.safetensors';
export const NULL_CAPTION_KEY = 'y_embedder.y_embedding';

/**
 * Writes `dir/<component>.onnx` (and `<component>.onnx.data` with external weights) for each
 * component plus `manifest.json`. Every graph passes `checkOnnxModel` before it is written. The
 * files are made in a temp folder beside `dir`: a new `dir` appears whole (one rename), in an
 * existing one each file is replaced by a rename, the manifest last (so a folder with a manifest
 * is complete). On any error the temp folder is removed and `dir` is as it was. Returns the
 * manifest.
 */
export function exportModel(model: MigeModel, dir: string, options: ExportOnnxOptions): OnnxManifest {
  const steps = exportSteps(model, dir, options);
  for (;;) {
    const r = steps.next();
    if (r.done) return r.value;
  }
}

/**
 * exportModel that yields to the event loop after every tensor written, so `signal` (and
 * Ctrl-C handlers) can stop it (MigeAbortError; the temp folder is removed), with progress per
 * tensor (stage 'export'). For exports that take minutes: official sizes read gigabytes.
 */
export async function exportModelAsync(model: MigeModel, dir: string, options: ExportOnnxOptions & LongOperationOptions): Promise<OnnxManifest> {
  const steps = exportSteps(model, dir, options);
  let tracker: ProgressTracker | undefined;
  try {
    for (;;) {
      tracker?.check();
      const r = steps.next();
      if (r.done) return r.value;
      if (r.value.total !== undefined) tracker = new ProgressTracker('export', r.value.total, options);
      else tracker?.step();
      await nextTurn();
    }
  } finally {
    // Runs the generator's own clean-up (open file, temp folder) when it stopped early.
    steps.return(undefined as never);
  }
}

/** What exportSteps yields: first the number of tensors to write, then once per tensor written. */
type ExportStep = { total?: number };

/** The export as steps (see exportModel); one code path for the synchronous and asynchronous drivers. */
function* exportSteps(model: MigeModel, dir: string, options: ExportOnnxOptions): Generator<ExportStep, OnnxManifest, undefined> {
  const where = 'exportModel';
  if (options.dtype !== 'fp32' && options.dtype !== 'fp16') throw new MigeInputError(`dtype must be 'fp32' or 'fp16', got ${JSON.stringify(options.dtype)}`, where);
  const dynamicBatch = options.dynamicBatch ?? true;
  const batchSize = options.batchSize ?? 1;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new MigeInputError(`batchSize must be a positive integer, got ${batchSize}`, where);
  const t5MaxLength = options.t5MaxLength ?? model.config.encoder.maxLength;
  if (!Number.isInteger(t5MaxLength) || t5MaxLength < 1) throw new MigeInputError(`t5MaxLength must be a positive integer, got ${t5MaxLength}`, where);
  const wanted = options.components ?? ONNX_COMPONENTS.filter((c) => hasComponent(model, c));
  for (const c of wanted) {
    if (!(ONNX_COMPONENTS as readonly string[]).includes(c)) throw new MigeInputError(`unknown component ${JSON.stringify(c)}; expected one of ${ONNX_COMPONENTS.join(', ')}`, where);
  }
  if (!options.weights && !model.hasWeights()) throw new MigeInputError('the model is a skeleton (no weights): pass options.weights', where);
  const parts = t5Parts(model, options.t5BlocksPerGraph ?? 'auto', where);
  const graphOptions = { weightType: options.dtype, batch: dynamicBatch ? 'batch' : batchSize, t5MaxLength, ...(options.weights ? { weights: options.weights } : {}) };
  // Every graph and file layout first (no parameter read yet, small inline ones aside): errors
  // come before any file, and the tensor count drives progress.
  const planned: PlannedGraph[] = [];
  const plan = (component: OnnxComponent, file: string, built: ComponentGraph, blocks?: [number, number]): void => {
    const { graph } = built;
    const external = options.externalData === true || ((options.externalData ?? 'auto') === 'auto' && graph.initializerBytes > AUTO_EXTERNAL_BYTES);
    // An inline graph holds its weights: it is serialized only when its turn to be written comes.
    const layout = external ? graph.externalModel(`${file}.data`) : undefined;
    if (layout) checkOnnxModel(layout.model, file);
    planned.push({ component, file, built, ...(layout ? { layout } : {}), ...(blocks ? { blocks } : {}) });
  };
  for (const component of wanted) {
    if (component !== 't5-encoder' || parts.length === 1) {
      plan(component, `${component}.onnx`, buildComponentGraph(model, component, graphOptions));
      continue;
    }
    for (const part of parts) plan(component, `${component}-blocks-${part.start}-${part.end}.onnx`, buildComponentGraph(model, component, { ...graphOptions, t5Part: part }), [part.start, part.end]);
  }
  yield { total: planned.reduce((n, p) => n + (p.layout?.tensors.length ?? 1), 0) };

  const manifest: OnnxManifest = {
    format: ONNX_MANIFEST_FORMAT,
    version: ONNX_MANIFEST_VERSION,
    dtype: options.dtype,
    dynamicBatch,
    opset: ONNX_OPSET,
    scalingFactor: model.vae.scalingFactor,
    t5MaxLength,
    config: structuredClone(model.config) as OnnxManifest['config'],
    components: {},
  };
  const temp = tempSibling(dir);
  mkdirSync(dirname(resolve(dir)), { recursive: true });
  mkdirSync(temp);
  try {
    for (const p of planned) {
      // The data first: a graph file is only ever next to the complete data it points into.
      if (p.layout) yield* writeFile(join(temp, p.layout.location), p.layout.tensors);
      const bytes = p.layout?.model ?? p.built.graph.serialize();
      const { nodes } = checkOnnxModel(bytes, p.file);
      yield* writeFile(join(temp, p.file), [{ pad: 0, bytes: () => bytes }], !p.layout);
      const written: OnnxGraphFile = { file: p.file, ...(p.layout ? { dataFile: p.layout.location } : {}), bytes: bytes.byteLength, nodes };
      const io = { inputs: p.built.inputs, outputs: p.built.outputs };
      if (!p.blocks) {
        manifest.components[p.component] = { ...written, ...io };
        continue;
      }
      const entry: OnnxComponentEntry = manifest.components[p.component] ?? { ...written, ...io, parts: [] };
      entry.parts?.push({ ...written, blocks: p.blocks });
      manifest.components[p.component] = entry;
    }
    if (wanted.includes('dit')) {
      const nullCaption = model.stateDict().get(NULL_CAPTION_KEY);
      if (nullCaption) {
        writeSafetensors(join(temp, NULL_CAPTION_FILE), writableFromTensors([[NULL_CAPTION_KEY, nullCaption]]));
        manifest.nullCaption = NULL_CAPTION_FILE;
      }
    }
    const text = new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`);
    yield* writeFile(join(temp, ONNX_MANIFEST_FILE), [{ pad: 0, bytes: () => text }], false);
    commitFolder(temp, dir);
    return manifest;
  } finally {
    rmSync(temp, { recursive: true, force: true });
  }
}

interface PlannedGraph {
  component: OnnxComponent;
  file: string;
  built: ComponentGraph;
  /** With external weights: the graph (pointing into `layout.location`) and the data file's tensors. */
  layout?: OnnxStreamedExternalModel;
  blocks?: [number, number];
}

/**
 * Writes a new file tensor by tensor (each after its padding), yielding after each when `steps`,
 * then fsyncs it. Used inside the export's temp folder, whose commit makes the files visible.
 */
function* writeFile(path: string, tensors: Iterable<Pick<OnnxExternalTensor, 'pad' | 'bytes'>>, steps = true): Generator<ExportStep, void, undefined> {
  const fd = openSync(path, 'wx');
  const write = (chunk: Uint8Array): void => {
    let done = 0;
    // fs.write rejects lengths of 2 GiB and more.
    while (done < chunk.byteLength) done += writeSync(fd, chunk, done, Math.min(chunk.byteLength - done, 2 ** 30));
  };
  try {
    for (const t of tensors) {
      if (t.pad) write(new Uint8Array(t.pad));
      write(t.bytes());
      if (steps) yield {};
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Makes the temp folder's files `dir`'s: one rename for a new folder, else file by file with the manifest last. */
function commitFolder(temp: string, dir: string): void {
  syncDirectory(temp);
  if (!existsSync(dir)) {
    renameSync(temp, dir);
  } else {
    if (!statSync(dir).isDirectory()) throw new MigeInputError('exists and is not a folder', dir);
    const files = readdirSync(temp).sort((a, b) => Number(a === ONNX_MANIFEST_FILE) - Number(b === ONNX_MANIFEST_FILE));
    for (const f of files) renameSync(join(temp, f), join(dir, f));
  }
  syncDirectory(dir);
  syncDirectory(dirname(resolve(dir)));
}

/** The t5-encoder's parts: blocks [start, end) per graph (see ExportOnnxOptions.t5BlocksPerGraph). */
function t5Parts(model: MigeModel, per: number | 'auto', where: string): T5EncoderPart[] {
  const blocks = model.encoder.module.t5.encoder.block;
  const depth = blocks.length;
  let size: number;
  if (per === 'auto') {
    const blockBytes = 4 * blocks.at(0).numParameters();
    size = blockBytes * depth <= T5_SPLIT_BYTES ? depth : Math.max(1, Math.floor(T5_PART_BYTES / blockBytes));
  } else {
    if (!Number.isInteger(per) || per < 1) throw new MigeInputError(`t5BlocksPerGraph must be a positive integer or 'auto', got ${JSON.stringify(per)}`, where);
    size = Math.min(per, depth);
  }
  const parts: T5EncoderPart[] = [];
  for (let start = 0; start < depth; start += size) parts.push({ start, end: Math.min(depth, start + size) });
  return parts;
}
