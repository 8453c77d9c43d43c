import { MigeInputError, Rng } from '@mige/core';

/** One draw: which task's dataset, and which example in it. */
export interface TaskDraw {
  task: string;
  index: number;
}

/** Everything needed to continue a sampler exactly where it stopped (JSON-serialisable). */
export interface TaskSamplerState {
  seed: number;
  sizes: Record<string, number>;
  ratios: Record<string, number>;
  rng: { s: number[]; spare: number | null };
  /** Per task: the epoch being walked and how many of its items were drawn. */
  cursors: Record<string, { epoch: number; cursor: number }>;
  draws: number;
}

const WHERE = 'TaskSampler';

function checkConfig(sizes: Record<string, number>, ratios: Record<string, number>): string[] {
  for (const [task, size] of Object.entries(sizes)) {
    if (!Number.isSafeInteger(size) || size < 0) throw new MigeInputError(`dataset size of task "${task}" must be a non-negative integer, got ${size}`, WHERE);
  }
  for (const [task, ratio] of Object.entries(ratios)) {
    if (!(task in sizes)) throw new MigeInputError(`ratio given for unknown task "${task}" (tasks: ${Object.keys(sizes).join(', ')})`, WHERE);
    if (typeof ratio !== 'number' || !Number.isFinite(ratio) || ratio < 0) {
      throw new MigeInputError(`ratio of task "${task}" must be a finite number >= 0, got ${ratio}`, WHERE);
    }
    if (ratio > 0 && sizes[task] === 0) throw new MigeInputError(`task "${task}" has ratio ${ratio} but an empty dataset`, WHERE);
  }
  // Sorted so the draw sequence does not depend on object key order.
  const active = Object.keys(ratios).filter((t) => (ratios[t] as number) > 0).sort();
  if (active.length === 0) throw new MigeInputError('at least one task needs a ratio > 0', WHERE);
  return active;
}

/**
 * Draws (task, index) pairs: the task with probability ratio / sum(ratios), then the next item of
 * that task's current epoch, a fresh seeded shuffle per (task, epoch), so every item is seen once
 * per epoch. Deterministic per seed and resumable: `state()` → `fromState()` continues the
 * identical sequence. Permutations are re-derived from (seed, task, epoch), so state stays small.
 */
export class TaskSampler {
  private readonly active: string[];
  private readonly total: number;
  private rng: Rng;
  private readonly cursors: Map<string, { epoch: number; cursor: number }>;
  private readonly perms = new Map<string, Uint32Array>();
  private draws = 0;

  constructor(
    private readonly sizes: Record<string, number>,
    private readonly ratios: Record<string, number>,
    private readonly seed = 0,
  ) {
    if (!Number.isSafeInteger(seed)) throw new MigeInputError(`seed must be an integer, got ${seed}`, WHERE);
    this.active = checkConfig(sizes, ratios);
    this.total = this.active.reduce((a, t) => a + (ratios[t] as number), 0);
    this.rng = new Rng(seed).fork('task-choice');
    this.cursors = new Map(this.active.map((t) => [t, { epoch: 0, cursor: 0 }]));
  }

  /** The next draw. */
  next(): TaskDraw {
    const task = this.pickTask();
    const c = this.cursors.get(task) as { epoch: number; cursor: number };
    const size = this.sizes[task] as number;
    if (c.cursor >= size) {
      c.epoch++;
      c.cursor = 0;
    }
    const index = this.permutation(task, c.epoch)[c.cursor] as number;
    c.cursor++;
    this.draws++;
    return { task, index };
  }

  /** The next `n` draws. */
  take(n: number): TaskDraw[] {
    if (!Number.isSafeInteger(n) || n < 0) throw new MigeInputError(`take(n): n must be a non-negative integer, got ${n}`, WHERE);
    return Array.from({ length: n }, () => this.next());
  }

  state(): TaskSamplerState {
    return {
      seed: this.seed,
      sizes: { ...this.sizes },
      ratios: { ...this.ratios },
      rng: this.rng.getState(),
      cursors: Object.fromEntries([...this.cursors].map(([t, c]) => [t, { ...c }])),
      draws: this.draws,
    };
  }

  static fromState(state: TaskSamplerState): TaskSampler {
    const s = new TaskSampler(state.sizes, state.ratios, state.seed);
    if (!state.rng || !Array.isArray(state.rng.s) || state.rng.s.length !== 4) throw new MigeInputError('state.rng must hold 4 words', WHERE);
    s.rng = Rng.fromState(state.rng);
    for (const task of s.active) {
      const c = state.cursors?.[task];
      const size = state.sizes[task] as number;
      if (!c || !Number.isSafeInteger(c.epoch) || c.epoch < 0 || !Number.isSafeInteger(c.cursor) || c.cursor < 0 || c.cursor > size) {
        throw new MigeInputError(`state.cursors["${task}"] is missing or out of range`, WHERE);
      }
      s.cursors.set(task, { epoch: c.epoch, cursor: c.cursor });
    }
    s.draws = Number.isSafeInteger(state.draws) ? state.draws : 0;
    return s;
  }

  /** Draws made so far (including those before a restore). */
  get drawCount(): number {
    return this.draws;
  }

  private pickTask(): string {
    let u = this.rng.uniform() * this.total;
    for (const t of this.active) {
      u -= this.ratios[t] as number;
      if (u < 0) return t;
    }
    return this.active[this.active.length - 1] as string; // rounding at the top end
  }

  /** Fisher-Yates with a stream keyed by (task, epoch); only the current epoch's is kept. */
  private permutation(task: string, epoch: number): Uint32Array {
    const key = `${task}\u0000${epoch}`;
    let perm = this.perms.get(key);
    if (!perm) {
      for (const k of this.perms.keys()) if (k.startsWith(`${task}\u0000`)) this.perms.delete(k);
      const size = this.sizes[task] as number;
      perm = new Uint32Array(size);
      for (let i = 0; i < size; i++) perm[i] = i;
      const rng = new Rng(this.seed).fork(key);
      for (let i = size - 1; i > 0; i--) {
        const j = rng.int(0, i + 1);
        const tmp = perm[i] as number;
        perm[i] = perm[j] as number;
        perm[j] = tmp;
      }
      this.perms.set(key, perm);
    }
    return perm;
  }
}
