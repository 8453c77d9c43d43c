import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Worker } from 'node:worker_threads';
import { getBackendInfo, MigeInputError, tf, type BackendName } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import { saveModel, type MigeModel } from '../model/index.js';
import type { TrainConfig } from './train-config.js';
import type { TrainDataset, TrainDatasetSource } from './train-data.js';
import { spawnWorker } from './spawn-worker.js';

/** What a training worker starts from (structured-cloned into it). */
export interface TrainWorkerInit {
  /** Its index (1..workers-1; the main thread is 0) and the number of threads in all. */
  index: number;
  workers: number;
  backend: BackendName;
  /** A model folder with the frozen weights (the trainable ones come through `weights`). */
  modelDir: string;
  dataset: TrainDatasetSource;
  cfg: TrainConfig;
  /** The trainable parameters' names, in order: the layout of `weights` and `grads`. */
  names: string[];
  /** Every trainable parameter, flattened in `names` order (written by the main thread). */
  weights: SharedArrayBuffer;
  /** This worker's summed gradients, same layout (written by the worker). */
  grads: SharedArrayBuffer;
}

/** One optimizer step's work: the draws of each of its micro-batches. */
export interface TrainWorkerJob {
  step: number;
  micros: TaskDraw[][];
}

/** present[i]: whether parameter i got a gradient (the loss may not reach every parameter in a share). */
export type TrainWorkerReply = { ok: true; loss: number; present: boolean[] } | { ok: false; error: string } | { ready: true };

/** Where each parameter starts in the shared, flattened layouts (the workers use the same). */
export function paramOffsets(sizes: readonly number[]): number[] {
  let total = 0;
  return sizes.map((n) => {
    const at = total;
    total += n;
    return at;
  });
}

/** A training worker thread (src/train/train-worker.ts, built to dist/train-worker.js). */
function spawn(init: TrainWorkerInit): Worker {
  return spawnWorker({ built: 'train-worker.js', source: 'train-worker.ts' }, init);
}

/**
 * Data-parallel training threads. tfjs-wasm runs on one core, so a step's micro-batches are split
 * item-wise across `workers` threads (the main thread takes the first share): each worker holds
 * the model, renders and encodes its share, and returns the share's gradients through shared
 * memory; the main thread adds them up and runs the one optimizer. The draws per item do not
 * depend on the split, so N threads compute the one-thread step up to float summation order.
 */
export class TrainWorkers {
  private readonly pool: Worker[] = [];
  private readonly weights: Float32Array;
  private readonly grads: Float32Array[] = [];
  private readonly offsets: number[];
  private readonly dir: string;
  private failure: Error | null = null;
  /** Per worker, which parameters its last share reached. */
  private present: boolean[][] = [];

  private constructor(private readonly params: readonly [string, tf.Variable][], readonly workers: number) {
    this.offsets = paramOffsets(params.map(([, p]) => p.size));
    const total = params.reduce((n, [, p]) => n + p.size, 0);
    this.weights = new Float32Array(new SharedArrayBuffer(4 * total));
    this.dir = mkdtempSync(join(tmpdir(), 'mige-train-workers-'));
  }

  /** Starts workers-1 threads, each with a copy of `model` and the dataset `dataset.source` describes. */
  static async start(model: MigeModel, dataset: TrainDataset, cfg: TrainConfig, workers: number): Promise<TrainWorkers> {
    if (!Number.isInteger(workers) || workers < 2) throw new MigeInputError(`workers must be an integer >= 2, got ${workers}`, 'TrainWorkers');
    if (cfg.batchSize < workers) throw new MigeInputError(`batch size ${cfg.batchSize} is smaller than workers ${workers}: each thread needs at least one item`, 'train');
    if (!dataset.source) throw new MigeInputError('workers > 1 needs a dataset that another thread can rebuild: one from datasetFromManifest, datasetFromWorld or datasetFromWorldSeed (or set its `source`)', 'train');
    const backend = getBackendInfo()?.name ?? (tf.getBackend() as BackendName);
    const params = model.trainableParameters();
    const self = new TrainWorkers(params, workers);
    try {
      saveModel(model, self.dir);
      const ready: Promise<void>[] = [];
      for (let index = 1; index < workers; index++) {
        const grads = new SharedArrayBuffer(self.weights.byteLength);
        self.grads.push(new Float32Array(grads));
        const w = spawn({ index, workers, backend, modelDir: self.dir, dataset: dataset.source, cfg, names: params.map(([n]) => n), weights: self.weights.buffer as SharedArrayBuffer, grads });
        self.pool.push(w);
        ready.push(self.reply(w).then(() => undefined));
      }
      await Promise.all(ready);
    } catch (e) {
      await self.dispose();
      throw e;
    }
    return self;
  }

  private reply(w: Worker): Promise<{ loss: number; present: boolean[] }> {
    return new Promise((resolve, reject) => {
      const cleanup = () => {
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      const onMessage = (m: TrainWorkerReply) => {
        cleanup();
        if ('ready' in m) resolve({ loss: 0, present: [] });
        else if (m.ok) resolve(m);
        else reject((this.failure = new Error(`training worker: ${m.error}`)));
      };
      const onError = (e: Error) => {
        cleanup();
        reject((this.failure = new Error(`training worker failed: ${e.message}`)));
      };
      const onExit = (code: number) => {
        cleanup();
        reject((this.failure = new Error(`training worker exited with code ${code}`)));
      };
      w.on('message', onMessage);
      w.once('error', onError);
      w.once('exit', onExit);
    });
  }

  /**
   * Hands the workers their shares of step `step` (call before computing the main thread's own):
   * the current weights go to shared memory first. Resolves to their summed loss.
   */
  dispatch(step: number, micros: TaskDraw[][]): Promise<number> {
    if (this.failure) return Promise.reject(this.failure);
    this.params.forEach(([, p], i) => this.weights.set(p.dataSync() as Float32Array, this.offsets[i]));
    const job: TrainWorkerJob = { step, micros };
    return Promise.all(this.pool.map((w) => {
      const r = this.reply(w);
      w.postMessage(job);
      return r;
    })).then((replies) => {
      this.present = replies.map((r) => r.present);
      return replies.reduce((a, r) => a + r.loss, 0);
    });
  }

  /**
   * Adds the workers' gradients (after dispatch resolved) to `acc`, keyed by variable name like
   * tf.variableGrads; a parameter no share reached stays without one, as on one thread.
   */
  addGradients(acc: Record<string, tf.Tensor>): Record<string, tf.Tensor> {
    const out: Record<string, tf.Tensor> = {};
    this.params.forEach(([, p], i) => {
      const off = this.offsets[i] as number;
      const theirs = this.grads.filter((_, w) => this.present[w]?.[i]).map((g) => g.subarray(off, off + p.size));
      const own = acc[p.name];
      if (theirs.length === 0) {
        if (own) out[p.name] = own;
        return;
      }
      out[p.name] = tf.tidy(() => theirs.reduce((sum: tf.Tensor, g) => tf.add(sum, tf.tensor(g, p.shape)), own ?? tf.zeros(p.shape)));
      own?.dispose();
    });
    return out;
  }

  async dispose(): Promise<void> {
    await Promise.all(this.pool.map((w) => w.terminate()));
    this.pool.length = 0;
    rmSync(this.dir, { recursive: true, force: true });
  }
}
