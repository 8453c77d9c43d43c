import { dirname } from 'node:path';
import { blipEvalTransform, MigeInputError, vaeTransform, type ChwImage, type InstructionTask, type RgbImage } from '@mige/core';
import { exampleTask, generateExample, loadDataset, prepareExample, rleToMask, type StreamOptions, type WorldExample, type WorldTask } from '@mige/data';

/** The task groups MIGE trains jointly; the sampler's ratios are over these. */
export type TrainTask = 'subject' | 'edit' | 'add' | 'replace';
export const TRAIN_TASKS: readonly TrainTask[] = ['subject', 'edit', 'add', 'replace'];

/** The prompt builder each group uses (the same as at inference, so trained models and flows agree). */
export const PROMPT_TASK: Readonly<Record<TrainTask, InstructionTask>> = { subject: 'subject', edit: 'edit', add: 'compose', replace: 'compose' };

/** One training example, transformed as the reference's dataset does. */
export interface TrainExample {
  task: TrainTask;
  instruction: string;
  /** VAE input [3, S, S] in [-1, 1]. */
  target: ChwImage;
  /** VAE input of the source, or null (subject-driven generation). */
  source: ChwImage | null;
  /** The instruction's images in placeholder order: ViT input [3, V, V] and VAE input [3, S, S]. */
  entities: { vit: ChwImage; vae: ChwImage }[];
  /** Which entity is the source image itself (shares its latent), or -1. */
  sourceEntity: number;
  /**
   * Pixels [S·S] (row-major, the target's size) inside an object of the source or the target,
   * from the synthetic world's annotations; absent for MIGE records (editFocusWeights 'objects').
   * A function: only the 'objects' focus needs it, so plain training never decodes the masks.
   */
  objects?: () => Uint8Array;
}

/** Where training examples come from: per-task sizes and random access. */
export interface TrainDataset {
  readonly sizes: Readonly<Record<TrainTask, number>>;
  get(task: TrainTask, index: number): Promise<TrainExample>;
  /** How to build the same dataset again in another thread (training workers); the built-in constructors set it. */
  readonly source?: TrainDatasetSource;
}

/** Plain, structured-cloneable data that datasetFromSource turns back into the same dataset. */
export type TrainDatasetSource =
  | { kind: 'manifest'; path: string; sizes: ImageSizes }
  | { kind: 'world-seed'; options: StreamOptions; sizes: ImageSizes }
  | { kind: 'world'; examples: readonly WorldExample[]; sizes: ImageSizes };

export interface ImageSizes {
  /** VAE side (the model's image size). */
  imageSize: number;
  /** ViT side. */
  vitSize: number;
}

/**
 * The group of a record's `task` field (MIGE's names or the synthetic world's), else inferred:
 * no source → subject, else edit. `add` is MIGE's compositional add when the record has subject
 * images besides the source, and the world's plain "add a described object" edit otherwise.
 */
export function trainTaskOf(task: string | undefined, hasSource: boolean, subjects: number, where: string): TrainTask {
  if (task === undefined) return hasSource ? 'edit' : 'subject';
  switch (task) {
    case 'subject':
      return 'subject';
    case 'edit': case 'recolor': case 'remove': case 'move': case 'resize': case 'background':
      return 'edit';
    case 'add':
      return subjects > 0 ? 'add' : 'edit';
    case 'compose_add':
      return 'add';
    case 'replace': case 'compose_replace':
      return 'replace';
    default:
      throw new MigeInputError(`unknown task "${task}" (subject, edit, add, replace, or a synthetic-world task)`, where);
  }
}

function group<T>(items: readonly T[], taskOf: (t: T, i: number) => TrainTask): { sizes: Record<TrainTask, number>; byTask: Record<TrainTask, T[]> } {
  const byTask: Record<TrainTask, T[]> = { subject: [], edit: [], add: [], replace: [] };
  items.forEach((it, i) => byTask[taskOf(it, i)].push(it));
  const sizes = Object.fromEntries(TRAIN_TASKS.map((t) => [t, byTask[t].length])) as Record<TrainTask, number>;
  return { sizes, byTask };
}

function pick<T>(byTask: Record<TrainTask, T[]>, task: TrainTask, index: number): T {
  const item = byTask[task][index];
  if (item === undefined) throw new MigeInputError(`no example ${index} in task "${task}" (${byTask[task].length} examples)`, 'TrainDataset.get');
  return item;
}

/** A MIGE dataset file (JSON / JSONL records, validated up front by @mige/data). */
export async function datasetFromManifest(path: string, sizes: ImageSizes): Promise<TrainDataset> {
  const { records } = await loadDataset(path);
  if (records.length === 0) throw new MigeInputError('the dataset holds no records', path);
  const { sizes: counts, byTask } = group(records, (r, i) => trainTaskOf(r.record.task, r.source !== null, r.entities.filter((e) => e !== r.source).length, `${path} record ${i}`));
  return {
    sizes: counts,
    source: { kind: 'manifest', path, sizes },
    async get(task, index) {
      const r = pick(byTask, task, index);
      const ex = await prepareExample(r.record, dirname(path), { vaeSize: sizes.imageSize, clipSize: sizes.vitSize });
      return {
        task,
        instruction: ex.instruction,
        target: ex.target,
        source: ex.source,
        entities: ex.entities.map((vit, j) => ({ vit, vae: ex.entitiesVae[j] as ChwImage })),
        sourceEntity: r.record.source_path === '' ? -1 : r.record.entity_path.indexOf(r.record.source_path),
      };
    },
  };
}

/** The pixels of the source's and the target's objects, nearest-resampled to `size`. */
function objectPixels(e: WorldExample, size: number): Uint8Array {
  const { width: w, height: h } = e.target;
  const world = new Uint8Array(w * h);
  for (const o of [...(e.annotations.source?.objects ?? []), ...e.annotations.target.objects]) rleToMask(o.mask, w * h).forEach((v, k) => { if (v) world[k] = 1; });
  if (w === size && h === size) return world;
  const out = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) for (let x = 0; x < size; x++) out[y * size + x] = world[Math.floor((y * h) / size) * w + Math.floor((x * w) / size)] as number;
  return out;
}

/** MIGE's group of a synthetic-world task (the world's own `add` is an edit: it has no subject image). */
function worldTrainTask(task: WorldTask): TrainTask {
  return trainTaskOf(task, task !== 'subject', 0, `world task ${task}`);
}

function fromWorld(e: WorldExample, task: TrainTask, sizes: ImageSizes): TrainExample {
  const vae = (img: RgbImage) => vaeTransform(img, sizes.imageSize);
  return {
    task,
    instruction: e.instruction,
    target: vae(e.target),
    source: e.source ? vae(e.source) : null,
    entities: e.entities.map((img) => ({ vit: blipEvalTransform(img, sizes.vitSize), vae: vae(img) })),
    sourceEntity: e.source ? e.entities.indexOf(e.source) : -1,
    objects: () => objectPixels(e, sizes.imageSize),
  };
}

/** In-memory synthetic-world examples (no files): what tests use. */
export function datasetFromWorld(examples: readonly WorldExample[], sizes: ImageSizes): TrainDataset {
  const { sizes: counts, byTask } = group(examples, (e: WorldExample) => worldTrainTask(e.task));
  return {
    sizes: counts,
    source: { kind: 'world', examples, sizes },
    get: (task, index) => Promise.resolve(fromWorld(pick(byTask, task, index), task, sizes)),
  };
}

/**
 * Examples start..start+count-1 of the synthetic-world dataset `seed`, rendered when drawn: the
 * dataset `datasetFromWorld([...streamExamples(options)])` gives (same examples, same order), in
 * memory for one index per example instead of its images, so a run can draw from millions.
 */
export function datasetFromWorldSeed(options: StreamOptions, sizes: ImageSizes): TrainDataset {
  const { seed, count, start = 0 } = options;
  if (!Number.isInteger(count) || count < 1) throw new MigeInputError(`count must be an integer >= 1, got ${count}`, 'datasetFromWorldSeed');
  const indices = Array.from({ length: count }, (_, k) => start + k);
  const { sizes: counts, byTask } = group(indices, (i) => worldTrainTask(exampleTask(seed, i, options)));
  return {
    sizes: counts,
    source: { kind: 'world-seed', options, sizes },
    get: (task, index) => Promise.resolve(fromWorld(generateExample(seed, pick(byTask, task, index), options), task, sizes)),
  };
}

/** The dataset a TrainDataset's `source` describes (what a training worker trains on). */
export function datasetFromSource(source: TrainDatasetSource): Promise<TrainDataset> {
  switch (source.kind) {
    case 'manifest': return datasetFromManifest(source.path, source.sizes);
    case 'world-seed': return Promise.resolve(datasetFromWorldSeed(source.options, source.sizes));
    case 'world': return Promise.resolve(datasetFromWorld(source.examples, source.sizes));
  }
}
