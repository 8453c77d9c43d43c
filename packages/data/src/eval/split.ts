import { MigeInputError } from '@mige/core';
import { generateExample } from '../world/generate.js';
import { checkSize } from '../world/scene.js';
import { WORLD_TASKS, type WorldExample, type WorldTask } from '../world/types.js';

/**
 * The world generator's version. A benchmark split is (generator version, seed, manifest): bump
 * this whenever a change to src/world alters the bytes of an example, so old scores are not
 * compared against a different benchmark.
 */
export const WORLD_GENERATOR_VERSION = 'world-1';

/** The default case counts: the compositional tasks at MIGEBench's 500 cases each. */
export const DEFAULT_SPLIT_COUNTS: Readonly<Record<WorldTask, number>> = {
  compose_add: 500, compose_replace: 500, subject: 500,
  recolor: 200, remove: 200, add: 200, move: 200, resize: 200, background: 200,
};

/** Index stride per task, so every task draws from its own index range of the same seed. */
const TASK_STRIDE = 1_000_000;

export interface SplitManifest {
  generatorVersion: string;
  seed: number;
  size: number;
  counts: Partial<Record<WorldTask, number>>;
}

export interface SplitCase { task: WorldTask; seed: number; index: number }

export interface BenchmarkSplit { manifest: SplitManifest; cases: SplitCase[] }

export interface SplitOptions {
  seed: number;
  counts?: Partial<Record<WorldTask, number>>;
  /** Canvas side, 32..128. Default 64. */
  size?: number;
}

/** The fixed benchmark: for each task, `count` (seed, index) pairs from that task's index range. */
export function benchmarkSplit(options: SplitOptions): BenchmarkSplit {
  const { seed, counts = DEFAULT_SPLIT_COUNTS, size = 64 } = options;
  if (!Number.isInteger(seed)) throw new MigeInputError(`seed must be an integer, got ${seed}`, 'benchmarkSplit');
  checkSize(size, size);
  const cases: SplitCase[] = [];
  for (const [task, count] of Object.entries(counts) as [WorldTask, number][]) {
    const t = WORLD_TASKS.indexOf(task);
    if (t < 0) throw new MigeInputError(`unknown task '${task}' (${WORLD_TASKS.join(', ')})`, 'benchmarkSplit');
    if (!Number.isInteger(count) || count < 0 || count > TASK_STRIDE) {
      throw new MigeInputError(`count for '${task}' must be an integer in 0..${TASK_STRIDE}, got ${count}`, 'benchmarkSplit');
    }
    for (let i = 0; i < count; i++) cases.push({ task, seed, index: t * TASK_STRIDE + i });
  }
  return { manifest: { generatorVersion: WORLD_GENERATOR_VERSION, seed, size, counts: { ...counts } }, cases };
}

/** Generates the split's examples lazily, in case order. */
export function* splitExamples(split: BenchmarkSplit): Generator<WorldExample> {
  for (const c of split.cases) yield generateExample(c.seed, c.index, { task: c.task, size: split.manifest.size });
}
