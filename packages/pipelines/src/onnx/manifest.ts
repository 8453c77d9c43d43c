import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import type { MigeConfig } from '../model/config.js';
import { ONNX_COMPONENTS, type OnnxComponent } from './components.js';

export const ONNX_MANIFEST_FORMAT = 'mige.js-onnx';
/** 2: the t5-embed component, t5-encoder parts and the null caption file. */
export const ONNX_MANIFEST_VERSION = 2;
export const ONNX_MANIFEST_FILE = 'manifest.json';

/** One graph input or output: its ONNX name, element type and dims (numbers fixed, strings symbolic). */
export interface OnnxValueSpec {
  name: string;
  type: 'float32';
  shape: (number | string)[];
}

/** One .onnx file of the export. */
export interface OnnxGraphFile {
  file: string;
  /** The external weight file beside `file`, when the weights are stored outside the graph. */
  dataFile?: string;
  /** Graph file size in bytes. */
  bytes: number;
  nodes: number;
}

/** A part of a component split into several graphs run one after another (the T5 encoder's blocks [start, end)). */
export interface OnnxComponentPart extends OnnxGraphFile {
  blocks: [number, number];
}

/**
 * A component: one graph file, or with `parts` a chain of graphs with the component's inputs and
 * outputs each (one part's output is the next part's first input); `file` is then the first part's.
 */
export interface OnnxComponentEntry extends OnnxGraphFile {
  inputs: OnnxValueSpec[];
  outputs: OnnxValueSpec[];
  parts?: OnnxComponentPart[];
}

/** manifest.json of an exported model folder. */
export interface OnnxManifest {
  format: typeof ONNX_MANIFEST_FORMAT;
  version: typeof ONNX_MANIFEST_VERSION;
  /** How float weights are stored ('fp16' weights are cast to float32 inside the graphs). */
  dtype: 'fp32' | 'fp16';
  dynamicBatch: boolean;
  opset: number;
  /** The VAE's latent scaling factor: decode(latents / scalingFactor). */
  scalingFactor: number;
  /** The longest T5 input the t5-encoder graph takes. */
  t5MaxLength: number;
  config: MigeConfig;
  components: Partial<Record<OnnxComponent, OnnxComponentEntry>>;
  /**
   * With the dit component: a safetensors file holding the DiT's learned null caption
   * (`y_embedder.y_embedding`, what the flows feed the unconditional branches), so a model folder
   * holding only its ONNX export can run the flows.
   */
  nullCaption?: string;
}

/** Reads and checks `dir/manifest.json`. */
export function readOnnxManifest(dir: string): OnnxManifest {
  const path = join(dir, ONNX_MANIFEST_FILE);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MigeInputError(`cannot read the ONNX manifest: ${error instanceof Error ? error.message : String(error)}`, path);
  }
  const m = json as Partial<OnnxManifest> | null;
  if (m?.format !== ONNX_MANIFEST_FORMAT) throw new MigeInputError(`format is ${JSON.stringify(m?.format)}, expected "${ONNX_MANIFEST_FORMAT}"`, path);
  if (m.version !== ONNX_MANIFEST_VERSION) throw new MigeInputError(`version ${JSON.stringify(m.version)} is not supported (expected ${ONNX_MANIFEST_VERSION}): export the model again`, path);
  if (typeof m.components !== 'object' || m.components === null) throw new MigeInputError('has no components', path);
  for (const name of Object.keys(m.components)) {
    if (!(ONNX_COMPONENTS as readonly string[]).includes(name)) throw new MigeInputError(`unknown component ${JSON.stringify(name)}`, path);
  }
  return m as OnnxManifest;
}
