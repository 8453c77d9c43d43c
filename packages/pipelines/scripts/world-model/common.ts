/** Shared by the default model's training stages: arguments, the world config, checkpoints. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, type nn, type tf } from '@mige/core';
import { parseMigeConfig, type MigeConfig, type MigeModel } from '../../src/model/index.js';
import { attachOnnx, detachOnnx, exportModel } from '../../src/onnx/index.js';
import { readCheckpoint, writeCheckpoint } from '../../src/train/index.js';

export const HERE = new URL('.', import.meta.url).pathname;

/** `--name value` options with defaults (every option is a string). */
export function args<K extends string>(spec: Record<K, string>): Record<K, string> {
  const options = Object.fromEntries(Object.keys(spec).map((k) => [k, { type: 'string' as const }]));
  const { values } = parseArgs({ options, strict: true });
  return { ...spec, ...(values as Partial<Record<K, string>>) };
}

export async function start(): Promise<void> {
  await initBackend({ backend: 'wasm', log: null });
}

/**
 * Exports `model` to a temp folder and runs its flows on ONNX Runtime (about 5x faster than
 * TF.js wasm here, bench-results/engines.json); the returned function undoes both.
 */
export async function attachTempOnnx(model: MigeModel): Promise<() => Promise<void>> {
  const dir = mkdtempSync(join(tmpdir(), 'mige-onnx-'));
  exportModel(model, dir, { dtype: 'fp32' });
  await attachOnnx(model, dir);
  return async () => {
    await detachOnnx(model);
    rmSync(dir, { recursive: true, force: true });
  };
}

export function worldConfig(path = join(HERE, 'mige-world.config.json')): MigeConfig {
  return parseMigeConfig(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** Resumes `params` and the optimizer from `dir`'s latest checkpoint; returns the step reached. */
export function resume(dir: string, module: nn.Module, optimizer: nn.AdamW): number {
  if (!existsSync(join(dir, 'latest.json'))) return 0;
  const ck = readCheckpoint(dir);
  module.loadStateDict(ck.model, { strict: true, source: ck.path });
  optimizer.loadStateDict(ck.optimizer, ck.step);
  return ck.step;
}

export function save(dir: string, step: number, module: nn.Module, optimizer: nn.AdamW, state: Record<string, unknown>): void {
  writeCheckpoint(dir, { step, model: module.stateDict() as Map<string, tf.Tensor>, optimizer: optimizer.stateDict(), state: { step, ...state } }, { keepLast: 2 });
}
