/** Shared by the default model's training stages: arguments, the world config, checkpoints. */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { initBackend, nn, Rng, type tf } from '@mige/core';
import { parseMigeConfig, type MigeConfig } from '../../src/model/index.js';
import { createTrainLogger, readCheckpoint, writeCheckpoint } from '../../src/train/index.js';

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

/**
 * The pre-training stages' loop (train-vit.ts, train-qformer.ts): AdamW on `net`'s trainable
 * parameters (weight decay 0.01, 100 warm-up steps), resumed from `out`, a JSON-lines log, a
 * checkpoint every `every` steps. `step` draws its batch from the step's own Rng fork and returns
 * what to log; `apply` takes the gradients of tf.variableGrads and returns the gradient norm.
 */
export function pretrain(
  o: { net: nn.Module; out: string; steps: number; lr: number; every: number; seed: number; stage: string },
  step: (rng: Rng, params: tf.Variable[], apply: (grads: Record<string, tf.Tensor>) => number) => Record<string, number>,
): number {
  const params = o.net.trainableParameters();
  const names = new Map(params.map(([n, p]) => [p.name, n]));
  const opt = new nn.AdamW(params, { lr: o.lr, weightDecay: 0.01, warmupSteps: 100 });
  let s = resume(o.out, o.net, opt);
  const apply = (grads: Record<string, tf.Tensor>) => opt.apply(Object.fromEntries(Object.entries(grads).map(([v, g]) => [names.get(v) as string, g]))).gradNorm;
  const logger = createTrainLogger({ stream: process.stderr, total: o.steps, metricsFile: join(o.out, 'metrics.jsonl'), mode: 'jsonl', startStep: s });
  while (s < o.steps) {
    const values = step(new Rng(o.seed).fork(`${o.stage}/${s}`), params.map(([, p]) => p), apply);
    s++;
    logger.log(s, values);
    if (s % o.every === 0 || s === o.steps) save(o.out, s, o.net, opt, { stage: o.stage });
  }
  logger.close();
  return s;
}
