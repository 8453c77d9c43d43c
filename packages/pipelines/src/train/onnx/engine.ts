import { loadOnnxRuntime, MigeInputError, nn, tf } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type * as Ort from 'onnxruntime-node';
import type { MigeModel } from '../../model/index.js';
import type { OrtModule } from '../../onnx/sessions.js';
import { LatentCache } from '../latent-cache.js';
import type { TrainConfig } from '../train-config.js';
import type { TrainDataset } from '../train-data.js';
import { FrozenSessions } from './frozen.js';
import { imageBucket, mseOf, prepareMicroBatch, type Feed, type FeedContext, type MicroBatchFeeds } from './feeds.js';
import { buildTrainGraph, ITEM_LOSS_OUTPUT, LOSS_OUTPUT, type TrainGraph } from './train-graph.js';

export interface OnnxEngineOptions {
  /** ONNX Runtime's intra-op threads (default 1). */
  threads?: number;
  /** Execution providers in order of preference (default ['cpu']). */
  executionProviders?: Ort.InferenceSession.ExecutionProviderConfig[];
  /** Prepare the next micro-batch's inputs while the graph runs (default false; uses another core). */
  prefetch?: boolean;
}

/** One training graph and its session, for a micro-batch size and an image bucket. */
interface TrainSession {
  graph: TrainGraph;
  session: Ort.InferenceSession;
  /**
   * Output tensors ONNX Runtime writes into (gradients and the losses): allocated once, so a
   * step neither allocates nor first-touches megabytes of fresh memory (docs/perf.md).
   */
  fetches: Record<string, Ort.Tensor>;
}

/**
 * The gradient side of a training step on ONNX Runtime: weights as flat Float32Arrays (the
 * master copy, fed to the training graph as inputs each step), one training graph per image
 * bucket (built on first use), and the frozen ViT and VAE as inference sessions. The optimizer
 * and EMA act on the same arrays (OnnxTrainer).
 */
export class OnnxGradients {
  private readonly sessions = new Map<number, Promise<TrainSession>>();
  /** A micro-batch's inputs being prepared ahead (prefetch). */
  private pending: { step: number; micro: number; draws: readonly TaskDraw[]; feeds: Promise<MicroBatchFeeds> } | undefined;
  private frozenSessions: Promise<FrozenSessions> | undefined;
  /** ORT tensors over the weight arrays: AdamW updates the arrays in place, so these stay valid. */
  private readonly paramTensors: Map<string, Ort.Tensor>;

  private constructor(
    private readonly ort: OrtModule,
    readonly model: MigeModel,
    private readonly ctx: Omit<FeedContext, 'frozen'>,
    /** Every parameter of the model (trainable ones train; frozen ones are fed as they are). */
    readonly weights: Map<string, Float32Array>,
    private readonly sessionOptions: Ort.InferenceSession.SessionOptions,
    private readonly prefetch: boolean,
    /** Where ONNX Runtime writes each trainable parameter's gradient (every session shares them: one runs at a time). */
    private readonly gradBuffers: Map<string, Float32Array>,
    /** The running mean of the micro-batches' gradients, when a step has several. */
    private readonly accBuffers: Map<string, Float32Array> | null,
    /** The memory that holds all of the above (and the optimizer's state), when it fits one WebAssembly memory. */
    readonly arena: nn.Float32Arena | null,
  ) {
    const shapes = new Map(model.namedParameters().map(([name, p]) => [name, p.shape]));
    this.paramTensors = new Map([...weights].map(([name, data]) => [name, new ort.Tensor('float32', data, shapes.get(name) as number[])]));
  }

  static async create(model: MigeModel, dataset: TrainDataset, cfg: TrainConfig, options: OnnxEngineOptions = {}): Promise<OnnxGradients> {
    const ort = await loadOnnxRuntime('the onnx training engine');
    const threads = options.threads ?? 1;
    if (!Number.isInteger(threads) || threads < 1) throw new MigeInputError(`threads must be a positive integer, got ${threads}`, 'train');
    const sessionOptions: Ort.InferenceSession.SessionOptions = {
      executionProviders: options.executionProviders ?? ['cpu'],
      intraOpNumThreads: threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      // Flush denormals to zero: the softmax over masked keys (bias −1e9) otherwise computes
      // denormal exponentials, which made the cross-attention softmax 3× slower.
      extra: { session: { set_denormal_as_zero: '1' } },
    };
    // One arena for the weights, the gradients (and their accumulator), AdamW's moments and the
    // EMA, so that FlatAdamW's WebAssembly kernel can update them in place; models too large for
    // WebAssembly's 4 GiB keep plain arrays (and the JavaScript loop).
    const named = model.namedParameters();
    const trainable = model.trainableParameters();
    const total = named.reduce((n, [, p]) => n + p.size, 0);
    const trained = trainable.reduce((n, [, p]) => n + p.size, 0);
    const copies = 3 + (cfg.emaDecay !== null ? 1 : 0) + (cfg.gradAccumSteps > 1 ? 1 : 0); // gradients, m, v, (EMA), (accumulator)
    const floats = total + copies * trained + 4 * (named.length + copies * trainable.length); // + 16-byte alignment
    const arena = nn.Float32Arena.fits(floats) ? new nn.Float32Arena(floats) : null;
    const alloc = (n: number): Float32Array => arena?.alloc(n) ?? new Float32Array(n);
    const weights = new Map(named.map(([name, p]) => {
      const data = alloc(p.size);
      data.set(p.dataSync());
      return [name, data];
    }));
    const gradBuffers = new Map(trainable.map(([name, p]) => [name, alloc(p.size)]));
    const accBuffers = cfg.gradAccumSteps > 1 ? new Map(trainable.map(([name, p]) => [name, alloc(p.size)])) : null;
    return new OnnxGradients(ort, model, { model, dataset, cfg, latents: new LatentCache(model.vae) }, weights, sessionOptions, options.prefetch ?? false, gradBuffers, accBuffers, arena);
  }

  /** A zeroed array for optimizer state, from the engine's arena when it has one. */
  alloc(n: number): Float32Array {
    return this.arena?.alloc(n) ?? new Float32Array(n);
  }

  /** The frozen ViT and VAE, opened on first use: after a resume has loaded the checkpoint's frozen weights. */
  private frozen(): Promise<FrozenSessions> {
    this.frozenSessions ??= FrozenSessions.open(this.ort, this.model, this.sessionOptions);
    return this.frozenSessions;
  }

  /** The training session for `images` instruction images at the config's batch size (built once per bucket). */
  private session(images: number): Promise<TrainSession> {
    const bucket = imageBucket(images);
    let s = this.sessions.get(bucket);
    if (!s) {
      const { cfg } = this.ctx;
      s = (async () => {
        const graph = buildTrainGraph(this.model, { batch: cfg.batchSize, images: bucket }, { mse: mseOf(cfg, this.model), focus: cfg.editFocus > 0 });
        const session = await this.ort.InferenceSession.create(graph.bytes, this.sessionOptions);
        const fetches: Record<string, Ort.Tensor> = {
          [LOSS_OUTPUT]: new this.ort.Tensor('float32', new Float32Array(1), []),
          [ITEM_LOSS_OUTPUT]: new this.ort.Tensor('float32', new Float32Array(cfg.batchSize), [cfg.batchSize]),
        };
        const shapes = new Map(graph.params.map((p) => [p.name, [...p.shape]]));
        for (const [name, output] of graph.gradOutputs) fetches[output] = new this.ort.Tensor('float32', this.gradBuffers.get(name) as Float32Array, shapes.get(name) as number[]);
        return { graph, session, fetches };
      })();
      this.sessions.set(bucket, s);
    }
    return s;
  }

  /**
   * The loss and gradients of optimizer step `step`: each micro-batch's (mean over its items),
   * averaged over the micro-batches as the TF.js engine does (each divided by their number, in
   * float32, then added). Parameters no micro-batch reached get no gradient.
   *
   * With `prefetch`, the inputs of the next micro-batch (this step's next one, or the first of
   * `next()`, the following step's draws) are prepared while the graph runs: the data, the VAE
   * and the ViT then overlap the forward and backward, on another core. The values are the same.
   */
  async stepGradients(step: number, micros: readonly (readonly TaskDraw[])[], next?: () => readonly (readonly TaskDraw[])[]): Promise<{ loss: number; grads: Map<string, Float32Array>; timings: Record<string, number> }> {
    const n = micros.length;
    let loss = 0;
    const acc = new Map<string, Float32Array>();
    const reached = new Set<string>();
    const timings = { data_ms: 0, build_ms: 0, graph_ms: 0 };
    for (const [micro, draws] of micros.entries()) {
      let t = performance.now();
      const { feeds, images } = await this.prepared(step, micro, draws);
      timings.data_ms += performance.now() - t;
      t = performance.now();
      const { graph, session, fetches } = await this.session(images);
      timings.build_ms += performance.now() - t;
      const input: Record<string, Ort.Tensor> = {};
      for (const [name, f] of Object.entries(feeds)) input[name] = this.tensor(f);
      for (const p of graph.params) input[p.name] = this.paramTensors.get(p.name) as Ort.Tensor;
      t = performance.now();
      const run = session.run(input, fetches);
      if (this.prefetch) {
        const following = micro + 1 < n ? { step, micro: micro + 1, draws: micros[micro + 1] as readonly TaskDraw[] } : next ? { step: step + 1, micro: 0, draws: next()[0] as readonly TaskDraw[] } : undefined;
        if (following) this.startPrefetch(following.step, following.micro, following.draws);
      }
      await run;
      timings.graph_ms += performance.now() - t;
      loss += (fetches[LOSS_OUTPUT]?.data as Float32Array)[0] as number;
      for (const name of graph.gradOutputs.keys()) {
        const g = this.gradBuffers.get(name) as Float32Array;
        // One micro-batch: the gradient buffer itself (read before the next run). Several: a
        // running mean in float32, each gradient divided by n then added, as the TF.js engine does.
        if (n === 1) {
          acc.set(name, g);
          continue;
        }
        const a = (this.accBuffers as Map<string, Float32Array>).get(name) as Float32Array;
        if (!reached.has(name)) for (let i = 0; i < g.length; i++) a[i] = (g[i] as number) / n;
        else for (let i = 0; i < g.length; i++) a[i] = Math.fround((a[i] as number) + Math.fround((g[i] as number) / n));
        reached.add(name);
        acc.set(name, a);
      }
    }
    return { loss, grads: acc, timings };
  }

  /** The micro-batch's inputs: prefetched if a prefetch of exactly these draws is under way, else prepared now. */
  private async prepared(step: number, micro: number, draws: readonly TaskDraw[]): Promise<MicroBatchFeeds> {
    const p = this.pending;
    this.pending = undefined;
    if (p && p.step === step && p.micro === micro && sameDraws(p.draws, draws)) return p.feeds;
    p?.feeds.catch(() => undefined); // not used: its failure does not matter
    return prepareMicroBatch({ ...this.ctx, frozen: await this.frozen() }, step, micro, draws);
  }

  private startPrefetch(step: number, micro: number, draws: readonly TaskDraw[]): void {
    const feeds = this.frozen().then((frozen) => prepareMicroBatch({ ...this.ctx, frozen }, step, micro, draws));
    feeds.catch(() => undefined); // awaited (and its error raised) by `prepared`
    this.pending = { step, micro, draws, feeds };
  }

  private tensor(f: Feed): Ort.Tensor {
    return f.data instanceof BigInt64Array ? new this.ort.Tensor('int64', f.data, f.dims) : new this.ort.Tensor('float32', f.data, f.dims);
  }

  /** Copies the weight arrays into the model's TF.js variables (for checkpoints and sampling). */
  syncModel(): void {
    for (const [name, p] of this.model.namedParameters()) {
      const data = this.weights.get(name) as Float32Array;
      tf.tidy(() => p.assign(tf.tensor(data, p.shape)));
    }
  }

  /** Loads weights (e.g. from a checkpoint) into the arrays. */
  loadWeights(sd: ReadonlyMap<string, tf.Tensor>): void {
    for (const [name, data] of this.weights) {
      const t = sd.get(name);
      if (t) data.set(t.dataSync());
    }
  }

  async release(): Promise<void> {
    await this.pending?.feeds.catch(() => undefined);
    this.pending = undefined;
    const open = await Promise.allSettled(this.sessions.values());
    await Promise.all(open.flatMap((r) => (r.status === 'fulfilled' ? [r.value.session.release()] : [])));
    this.sessions.clear();
    const frozen = await this.frozenSessions?.catch(() => undefined);
    await frozen?.release();
  }
}

/** The flat parameters AdamW updates: the model's trainable ones, over the engine's weight arrays. */
export function flatTrainable(model: MigeModel, weights: ReadonlyMap<string, Float32Array>): nn.FlatParameter[] {
  return model.trainableParameters().map(([name]) => ({ name, data: weights.get(name) as Float32Array }));
}

function sameDraws(a: readonly TaskDraw[], b: readonly TaskDraw[]): boolean {
  return a.length === b.length && a.every((d, i) => d.task === b[i]?.task && d.index === b[i]?.index);
}
