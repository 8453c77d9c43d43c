import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { checkOnnxModel, MigeInputError, ONNX_OPSET, writeFileAtomic, writeTextFileAtomic } from '@mige/core';
import type { MigeModel } from '../model/mige-model.js';
import { ONNX_COMPONENTS, type OnnxComponent } from './components.js';
import { buildComponentGraph, hasComponent } from './graphs.js';
import { ONNX_MANIFEST_FILE, ONNX_MANIFEST_FORMAT, ONNX_MANIFEST_VERSION, type OnnxManifest } from './manifest.js';

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
}

/** Above this many weight bytes 'auto' moves a component's weights to an external file. */
const AUTO_EXTERNAL_BYTES = 2 ** 30;

/**
 * Writes `dir/<component>.onnx` (and `<component>.onnx.data` with external weights) for each component plus `manifest.json`, each file atomically
 * (temp file, fsync, rename); the manifest goes last, so a folder with a manifest is complete.
 * Every graph passes `checkOnnxModel` before it is written. Returns the manifest.
 */
export function exportModel(model: MigeModel, dir: string, options: ExportOnnxOptions): OnnxManifest {
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
  mkdirSync(dir, { recursive: true });
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
  for (const component of wanted) {
    const { graph, inputs, outputs } = buildComponentGraph(model, component, {
      weightType: options.dtype,
      batch: dynamicBatch ? 'batch' : batchSize,
      t5MaxLength,
    });
    const file = `${component}.onnx`;
    const external = options.externalData === true || ((options.externalData ?? 'auto') === 'auto' && graph.initializerBytes > AUTO_EXTERNAL_BYTES);
    let bytes: Uint8Array;
    let dataFile: string | undefined;
    if (external) {
      const split = graph.serializeExternal(`${file}.data`);
      bytes = split.model;
      dataFile = split.location;
      // The data first: a graph file is only ever next to the complete data it points into.
      writeFileAtomic(join(dir, dataFile), (write) => split.data.forEach(write));
    } else {
      bytes = graph.serialize();
    }
    const summary = checkOnnxModel(bytes, file);
    writeFileAtomic(join(dir, file), (write) => write(bytes));
    manifest.components[component] = { file, ...(dataFile ? { dataFile } : {}), inputs, outputs, bytes: bytes.byteLength, nodes: summary.nodes };
  }
  writeTextFileAtomic(join(dir, ONNX_MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
  return manifest;
}
