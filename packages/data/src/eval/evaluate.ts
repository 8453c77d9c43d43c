import type { RgbImage } from '@mige/core';
import { MigeInputError } from '@mige/core';
import type { WorldExample, WorldTask } from '../world/types.js';
import type { EvalModel } from './baselines.js';
import { clipDirScores, clipIScores, clipTScores, dinoScores } from '../embed-metrics/metrics.js';
import type { ImageEmbedder } from '../embed-metrics/image-encoder.js';
import type { TextEmbedder } from '../embed-metrics/text-encoder.js';
import { captionScene } from './captions.js';
import { objectScoresAndFailure, type ObjectFailure } from './object-metrics.js';
import { l1Distance, l2Distance } from './pixel-metrics.js';
import type { SplitManifest } from './split.js';

export const METRIC_NAMES = ['l1', 'l2', 'instructed', 'othersUnchanged', 'subjectPreserved', 'dino', 'clipI', 'clipT', 'clipDir'] as const;
export type MetricName = (typeof METRIC_NAMES)[number];

/** Means over the examples where a metric applies (null: it applies to none); n = examples. */
export interface ScoreRow { n: number; metrics: Record<MetricName, number | null> }

export interface EvalReport {
  name: string;
  manifest?: SplitManifest;
  tasks: Partial<Record<WorldTask, ScoreRow>>;
  /** Means over all examples (each example weighs the same, whatever its task). */
  overall: ScoreRow;
  /** Per task that places one object: how many cases fell into each objectFailure kind (absent when no such task ran). */
  failures?: Partial<Record<WorldTask, Partial<Record<ObjectFailure, number>>>>;
}

/** One evaluated case kept for the grid picture. */
export interface EvalSample { example: WorldExample; output: RgbImage }

export interface EvaluateOptions {
  examples: Iterable<WorldExample> | AsyncIterable<WorldExample>;
  model: EvalModel;
  name: string;
  manifest?: SplitManifest;
  /** How many cases to keep for the grid: the first one of each task, up to this many. Default 4. */
  samples?: number;
  /**
   * The paper's embedding metrics, computed when their encoders are given (e.g. OnnxImageEncoder /
   * OnnxTextEncoder on exports of DINO ViT-S/16 and CLIP ViT-B/32); null otherwise.
   */
  embedders?: { dino?: ImageEmbedder; clipImage?: ImageEmbedder; clipText?: TextEmbedder };
}

type EmbeddingMetrics = Pick<Record<MetricName, number | null>, 'dino' | 'clipI' | 'clipT' | 'clipDir'>;

/** DINO and CLIP-I against the target; CLIP-T against the target's caption; CLIPdir from the source. */
async function embeddingScores(example: WorldExample, output: RgbImage, e: EvaluateOptions['embedders']): Promise<EmbeddingMetrics> {
  const first = async (p: Promise<number[]>) => (await p)[0] ?? null;
  const targetCaption = captionScene(example.annotations.target);
  const source = example.source;
  const sourceScene = example.annotations.source;
  return {
    dino: e?.dino ? await first(dinoScores(e.dino, [output], [example.target])) : null,
    clipI: e?.clipImage ? await first(clipIScores(e.clipImage, [output], [example.target])) : null,
    clipT: e?.clipImage && e.clipText ? await first(clipTScores(e.clipImage, e.clipText, [output], [targetCaption])) : null,
    clipDir: e?.clipImage && e.clipText && source && sourceScene
      ? await first(clipDirScores(e.clipImage, e.clipText, [{ source, output, sourceCaption: captionScene(sourceScene), targetCaption }]))
      : null,
  };
}

class Accumulator {
  n = 0;
  private sums = new Map<MetricName, [number, number]>();
  add(values: Record<MetricName, number | null>): void {
    this.n++;
    for (const m of METRIC_NAMES) {
      const v = values[m];
      if (v === null) continue;
      const s = this.sums.get(m) ?? [0, 0];
      this.sums.set(m, [s[0] + v, s[1] + 1]);
    }
  }
  row(): ScoreRow {
    const metrics = {} as Record<MetricName, number | null>;
    for (const m of METRIC_NAMES) {
      const s = this.sums.get(m);
      metrics[m] = s ? s[0] / s[1] : null;
    }
    return { n: this.n, metrics };
  }
}

/** Runs the model on every example and aggregates pixel and object scores per task. */
export async function evaluate(options: EvaluateOptions): Promise<{ report: EvalReport; samples: EvalSample[] }> {
  const { examples, model, name, samples: sampleCount = 4 } = options;
  const perTask = new Map<WorldTask, Accumulator>();
  const overall = new Accumulator();
  const samples: EvalSample[] = [];
  const failures: NonNullable<EvalReport['failures']> = {};
  for await (const example of examples) {
    const output = await model(example);
    if (output.width !== example.target.width || output.height !== example.target.height) {
      throw new MigeInputError(`model output is ${output.width}x${output.height}, target is ${example.target.width}x${example.target.height}`, name);
    }
    const { scores: obj, failure } = objectScoresAndFailure(example, output);
    if (failure) {
      const counts = (failures[example.task] ??= {});
      counts[failure] = (counts[failure] ?? 0) + 1;
    }
    const values: Record<MetricName, number | null> = {
      l1: l1Distance(output, example.target), l2: l2Distance(output, example.target), ...obj,
      ...(await embeddingScores(example, output, options.embedders)),
    };
    const acc = perTask.get(example.task) ?? new Accumulator();
    // A new task's first case is kept, so the grid shows different tasks.
    if (acc.n === 0 && samples.length < sampleCount) samples.push({ example, output });
    acc.add(values);
    perTask.set(example.task, acc);
    overall.add(values);
  }
  const tasks: EvalReport['tasks'] = {};
  for (const [task, acc] of perTask) tasks[task] = acc.row();
  const report: EvalReport = { name, tasks, overall: overall.row() };
  if (options.manifest) report.manifest = options.manifest;
  if (Object.keys(failures).length) report.failures = failures;
  return { report, samples };
}
