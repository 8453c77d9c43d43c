import { MigeInputError, nn, tf } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type { MigeModel } from '../../model/index.js';
import type { LoadedCheckpoint } from '../checkpoint-io.js';
import type { EngineState, EngineStepResult, TrainStepEngine } from '../engine.js';
import { adamwConfig, emaWarmupDecay } from '../tfjs-engine.js';
import type { TrainConfig } from '../train-config.js';
import type { TrainDataset } from '../train-data.js';
import { flatTrainable, OnnxGradients, type OnnxEngineOptions } from './engine.js';

/**
 * Training on ONNX Runtime: gradients from the differentiated training graph (OnnxGradients),
 * AdamW (nn.FlatAdamW, with the EMA in the same pass) on the same flat float32 weights, in the
 * engine's WebAssembly arena when the model fits one. The checkpoint format is the TF.js engine's.
 */
export class OnnxEngine implements TrainStepEngine {
  readonly name = 'onnx';
  private constructor(
    private readonly grads: OnnxGradients,
    private readonly cfg: TrainConfig,
    private readonly params: nn.FlatParameter[],
    private readonly optimizer: nn.FlatAdamW,
    /** EMA shadow weights by name (null: no EMA). */
    private readonly ema: Map<string, Float32Array> | null,
  ) {}

  static async create(model: MigeModel, dataset: TrainDataset, cfg: TrainConfig, options: OnnxEngineOptions = {}): Promise<OnnxEngine> {
    const grads = await OnnxGradients.create(model, dataset, cfg, options);
    const params = flatTrainable(model, grads.weights);
    const optimizer = new nn.FlatAdamW(params, adamwConfig(cfg), grads.arena ? { arena: grads.arena } : {});
    const ema = cfg.emaDecay !== null ? new Map(params.map((p) => {
      const shadow = grads.alloc(p.data.length);
      shadow.set(p.data);
      return [p.name, shadow];
    })) : null;
    return new OnnxEngine(grads, cfg, params, optimizer, ema);
  }

  async step(step: number, micros: readonly (readonly TaskDraw[])[], next?: () => readonly (readonly TaskDraw[])[]): Promise<EngineStepResult> {
    const { loss, grads, timings } = await this.grads.stepGradients(step, micros, next);
    const t = performance.now();
    const cfg = this.cfg;
    const ema = this.ema ? { shadows: this.ema, decay: cfg.emaWarmup ? emaWarmupDecay(cfg.emaDecay as number, step) : (cfg.emaDecay as number) } : undefined;
    const { gradNorm, lr } = this.optimizer.apply(grads, ema);
    return { loss: loss / this.cfg.gradAccumSteps, gradNorm, lr, timings: { ...timings, optimizer_ms: performance.now() - t } };
  }

  state(): EngineState {
    this.grads.syncModel();
    const made: tf.Tensor[] = [];
    const tensors = (arrays: Iterable<[string, Float32Array]>, shapeOf: (name: string) => number[]): Map<string, tf.Tensor> => {
      const out = new Map<string, tf.Tensor>();
      for (const [name, data] of arrays) {
        const t = tf.tensor(data, shapeOf(name));
        made.push(t);
        out.set(name, t);
      }
      return out;
    };
    const shapes = new Map(this.grads.model.namedParameters().map(([n, p]) => [n, p.shape]));
    const paramShape = (name: string): number[] => shapes.get(name.replace(/^exp_avg(_sq)?\./, '')) as number[];
    return {
      model: this.grads.model.stateDict(),
      optimizer: tensors(this.optimizer.stateDict(), paramShape),
      ...(this.ema ? { ema: tensors(this.ema, paramShape) } : {}),
      release: () => tf.dispose(made),
    };
  }

  load(ck: LoadedCheckpoint, step: number): void {
    const model = this.grads.model;
    model.loadStateDict(ck.model, { strict: true, source: ck.path });
    this.grads.loadWeights(new Map(model.namedParameters()));
    this.optimizer.loadStateDict(new Map([...ck.optimizer].map(([k, t]) => [k, t.dataSync() as Float32Array])), step);
    if (this.ema && ck.ema) {
      for (const [name, shadow] of this.ema) {
        const t = ck.ema.get(name);
        if (!t) throw new MigeInputError(`lacks the EMA weight ${name}`, ck.path);
        if (t.size !== shadow.length) throw new MigeInputError(`EMA weight ${name} has ${t.size} values, expected ${shadow.length}`, ck.path);
        shadow.set(t.dataSync());
      }
    }
  }

  async finish(): Promise<void> {
    this.grads.syncModel();
    await this.grads.release();
  }
}
