import { MigeInputError, Rng } from '@mige/core';
import { checkSize } from './scene.js';
import { composeAddTask, composeReplaceTask } from './task-compose.js';
import { addTask, backgroundTask, moveTask, recolorTask, removeTask, resizeTask } from './task-edit.js';
import { subjectTask } from './task-subject.js';
import { WORLD_TASKS, type WorldExample, type WorldTask } from './types.js';

type TaskFn = (rng: Rng, width: number, height: number) => WorldExample;

const TASK_FNS: Record<WorldTask, TaskFn> = {
  subject: subjectTask,
  recolor: recolorTask,
  remove: removeTask,
  add: addTask,
  move: moveTask,
  resize: resizeTask,
  background: backgroundTask,
  compose_add: composeAddTask,
  compose_replace: composeReplaceTask,
};

export interface ExampleOptions {
  /** Square canvas side, 32..128 px. Default 64. */
  size?: number;
  /** Relative weights per task (missing tasks get 0); default: all tasks equally. */
  taskRatios?: Partial<Record<WorldTask, number>>;
  /** Forces one task, overriding taskRatios. */
  task?: WorldTask;
  /**
   * Chance in [0, 1] that a subject example is drawn onto a source instead (a compositional add
   * with the subject task's layout and words; see subjectTask). Default 0: the examples, and the
   * benchmark split, are what they were without the option.
   */
  subjectOnSource?: number;
}

function chooseTask(rng: Rng, ratios: Partial<Record<WorldTask, number>> | undefined): WorldTask {
  if (!ratios) return WORLD_TASKS[rng.int(0, WORLD_TASKS.length)] as WorldTask;
  let total = 0;
  for (const t of WORLD_TASKS) {
    const r = ratios[t] ?? 0;
    if (!(r >= 0) || !Number.isFinite(r)) throw new MigeInputError(`task ratio for '${t}' must be a finite number >= 0, got ${r}`, 'taskRatios');
    total += r;
  }
  for (const key of Object.keys(ratios)) {
    if (!WORLD_TASKS.includes(key as WorldTask)) throw new MigeInputError(`unknown task '${key}' (${WORLD_TASKS.join(', ')})`, 'taskRatios');
  }
  if (total <= 0) throw new MigeInputError('task ratios must not all be 0', 'taskRatios');
  let u = rng.uniform() * total;
  for (const t of WORLD_TASKS) {
    u -= ratios[t] ?? 0;
    if (u < 0) return t;
  }
  // Rounding can leave u at exactly 0 past the end: the last task with weight takes it.
  return [...WORLD_TASKS].reverse().find((t) => (ratios[t] ?? 0) > 0) as WorldTask;
}

/**
 * Example `index` of the dataset `seed`. Its random stream is forked from (seed, index) alone,
 * so the bytes are the same whatever order or subset of examples is generated.
 */
export function generateExample(seed: number, index: number, options: ExampleOptions = {}): WorldExample {
  const size = options.size ?? 64;
  checkSize(size, size);
  const { rng, task, onSource } = startExample(seed, index, options, 'generateExample');
  return onSource ? subjectTask(rng, size, size, true) : TASK_FNS[task](rng, size, size);
}

/**
 * The task of example `index` of the dataset `seed`, without rendering it: what
 * `generateExample(seed, index, options).task` is, at the cost of one random draw.
 */
export function exampleTask(seed: number, index: number, options: Pick<ExampleOptions, 'taskRatios' | 'task' | 'subjectOnSource'> = {}): WorldTask {
  const { task, onSource } = startExample(seed, index, options, 'exampleTask');
  return onSource ? 'compose_add' : task;
}

/** The example's random stream, with its task (and whether a subject goes onto a source) already drawn from it. */
function startExample(seed: number, index: number, options: Pick<ExampleOptions, 'taskRatios' | 'task' | 'subjectOnSource'>, where: string): { rng: Rng; task: WorldTask; onSource: boolean } {
  if (!Number.isInteger(index) || index < 0) throw new MigeInputError(`index must be an integer >= 0, got ${index}`, where);
  const p = options.subjectOnSource ?? 0;
  if (!(p >= 0 && p <= 1)) throw new MigeInputError(`subjectOnSource must be a chance in [0, 1], got ${p}`, where);
  const rng = new Rng(seed).fork(index);
  const task = options.task ?? chooseTask(rng, options.taskRatios);
  if (!TASK_FNS[task]) throw new MigeInputError(`unknown task '${String(task)}' (${WORLD_TASKS.join(', ')})`, where);
  // Drawn only when asked for, so that without the option the stream is unchanged.
  const onSource = task === 'subject' && p > 0 && rng.uniform() < p;
  return { rng, task, onSource };
}

export interface StreamOptions extends ExampleOptions {
  seed: number;
  count: number;
  /** First index (for resuming or sharding). Default 0. */
  start?: number;
}

/** Lazily yields examples start..start+count-1 of the dataset `seed`. */
export function* streamExamples(options: StreamOptions): Generator<WorldExample> {
  const { seed, count, start = 0 } = options;
  if (!Number.isInteger(count) || count < 0) throw new MigeInputError(`count must be an integer >= 0, got ${count}`, 'streamExamples');
  for (let i = start; i < start + count; i++) yield generateExample(seed, i, options);
}
