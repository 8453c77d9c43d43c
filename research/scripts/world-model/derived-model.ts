/** Shared by the one-off model conversions (grow-depth, repatch, average-models). */
import { copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeSafetensors, type TensorData, type WritableTensor } from '@mige/core';
import { MODEL_FILES, SAMPLING_FILE, writeModelConfig, type MigeConfig } from '../../../packages/pipelines/src/model/index.js';

/**
 * Writes model folder `out` with new weights and config, its tokenizer and sampling defaults copied
 * from folder `from` (grow-depth, repatch). config.json goes last, as saveModel writes it: a folder
 * with the new config has the new weights.
 */
export function writeDerivedModel(from: string, out: string, tensors: Map<string, WritableTensor>, metadata: Record<string, string>, config: MigeConfig): void {
  mkdirSync(out, { recursive: true });
  for (const f of [SAMPLING_FILE, MODEL_FILES.tokenizer]) copyFileSync(join(from, f), join(out, f));
  writeSafetensors(join(out, MODEL_FILES.weights), tensors, metadata);
  writeModelConfig(out, config);
}

/** A parsed tensor, ready to write back unchanged. */
export function writableFromData(t: TensorData): WritableTensor {
  return { dtype: t.dtype === 'float32' ? 'F32' : 'I32', shape: t.shape, data: t.data };
}
