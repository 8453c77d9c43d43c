import type { Worker } from 'node:worker_threads';
import { MigeInputError, type BackendName } from '@mige/core';
import type { TaskDraw } from '@mige/data';
import type { T5TokenizerJson } from '@mige/encoder';
import type * as Ort from 'onnxruntime-node';
import type { MigeConfig } from '../../model/index.js';
import { spawnWorker } from '../spawn-worker.js';
import type { TrainConfig } from '../train-config.js';
import type { TrainDatasetSource } from '../train-data.js';
import type { Feed, MicroBatchFeeds } from './feeds.js';
import type { FrozenGraphs } from './frozen.js';

/** What the data thread starts from (structured-cloned into it; the graphs' bytes are moved). */
export interface DataWorkerInit {
  backend: BackendName;
  /** The model's config and tokenizer: the thread builds a skeleton (prepareMicroBatch reads no weights). */
  config: MigeConfig;
  tokenizer: T5TokenizerJson;
  dataset: TrainDatasetSource;
  cfg: TrainConfig;
  graphs: FrozenGraphs;
  sessionOptions: Ort.InferenceSession.SessionOptions;
}

/** One micro-batch to prepare. */
export interface DataWorkerJob {
  id: number;
  step: number;
  micro: number;
  draws: TaskDraw[];
}

export type DataWorkerReply =
  | { ready: true }
  | { id: number; ok: true; prepared: MicroBatchFeeds }
  | { id?: number; ok: false; error: { message: string; where?: string; input: boolean } };

/** The buffers of a micro-batch's feeds, to move (not copy) them to the other thread. */
export function feedBuffers(feeds: Readonly<Record<string, Feed>>): ArrayBuffer[] {
  return [...new Set(Object.values(feeds).map((f) => f.data.buffer as ArrayBuffer))];
}

/** An error as the thread reports it: a MigeInputError stays one on the other side. */
export function describeError(e: unknown): { message: string; where?: string; input: boolean } {
  if (e instanceof MigeInputError) return { message: e.message, ...(e.where !== undefined ? { where: e.where } : {}), input: true };
  return { message: e instanceof Error ? e.message : String(e), input: false };
}

function rebuildError(e: { message: string; where?: string; input: boolean }): Error {
  if (!e.input) return new Error(`the training data thread: ${e.message}`);
  // MigeInputError's message already starts with its `where`.
  const prefix = e.where !== undefined ? `${e.where}: ` : '';
  return new MigeInputError(e.message.startsWith(prefix) ? e.message.slice(prefix.length) : e.message, e.where);
}

/**
 * The ONNX engine's data thread (prefetch): renders the examples, runs the frozen VAE and ViT on
 * its own ONNX Runtime sessions and draws each micro-batch's randomness (prepareMicroBatch), one
 * job after another in the order asked, while the main thread runs the training graph on its core
 * (onnxruntime-node runs a session on the calling thread, blocking it). It holds the run's
 * LatentCache. The inputs are those the main thread would prepare, bit for bit: the same code on
 * the same backend, the same draws from the same seeded streams, the same frozen graphs.
 */
export class DataWorker {
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (p: MicroBatchFeeds) => void; reject: (e: Error) => void }>();
  private failure: Error | null = null;

  private constructor(private readonly worker: Worker) {
    worker.on('message', (m: DataWorkerReply) => {
      if ('ready' in m) return;
      if (m.ok) return this.settle(m.id)?.resolve(m.prepared);
      const e = rebuildError(m.error);
      if (m.id === undefined) this.fail(e);
      else this.settle(m.id)?.reject(e);
    });
    worker.on('error', (e) => this.fail(new Error(`the training data thread failed: ${e.message}`)));
    worker.on('exit', (code) => this.fail(new Error(`the training data thread exited with code ${code}`)));
  }

  /** Starts the thread (moving `init.graphs`' bytes to it); resolves once its dataset and sessions are ready. */
  static async start(init: DataWorkerInit): Promise<DataWorker> {
    // Bytes that fill their own buffer move; a view into a larger (e.g. pooled) buffer is copied.
    const own = (b: Uint8Array): Uint8Array => (b.byteOffset === 0 && b.byteLength === b.buffer.byteLength ? b : b.slice());
    const graphs = { ...init.graphs, vit: own(init.graphs.vit), vae: own(init.graphs.vae) };
    const worker = spawnWorker({ built: 'train-data-worker.js', source: 'onnx/data-worker-thread.ts' }, { ...init, graphs }, [graphs.vit.buffer as ArrayBuffer, graphs.vae.buffer as ArrayBuffer]);
    const self = new DataWorker(worker);
    await new Promise<void>((resolve, reject) => {
      const onMessage = (m: DataWorkerReply) => {
        worker.off('message', onMessage);
        if ('ready' in m) resolve();
        else if (!m.ok) reject(rebuildError(m.error));
      };
      worker.on('message', onMessage);
      worker.once('exit', (code) => reject(self.failure ?? new Error(`the training data thread exited with code ${code}`)));
    }).catch(async (e: unknown) => {
      await worker.terminate();
      throw e;
    });
    return self;
  }

  /** The caller waiting for job `id`, no longer waiting. */
  private settle(id: number): { resolve: (p: MicroBatchFeeds) => void; reject: (e: Error) => void } | undefined {
    const w = this.waiting.get(id);
    this.waiting.delete(id);
    return w;
  }

  private fail(e: Error): void {
    this.failure ??= e;
    for (const w of this.waiting.values()) w.reject(this.failure);
    this.waiting.clear();
  }

  /** Micro-batch `micro` of step `step`: queued behind the jobs asked before it. */
  prepare(step: number, micro: number, draws: readonly TaskDraw[]): Promise<MicroBatchFeeds> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      const job: DataWorkerJob = { id, step, micro, draws: [...draws] };
      this.worker.postMessage(job);
    });
  }

  async close(): Promise<void> {
    this.worker.removeAllListeners('exit');
    this.fail(new Error('the training data thread was closed'));
    await this.worker.terminate();
  }
}
