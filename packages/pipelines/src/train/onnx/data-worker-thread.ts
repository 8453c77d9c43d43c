// The entry of the ONNX engine's data thread (see DataWorker): rebuilds the dataset, a skeleton
// of the model and the frozen sessions, then prepares each micro-batch it is asked for, in order.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, loadOnnxRuntime } from '@mige/core';
import { T5Tokenizer } from '@mige/encoder';
import { MigeModel } from '../../model/index.js';
import { LatentCache } from '../latent-cache.js';
import { datasetFromSource } from '../train-data.js';
import { describeError, feedBuffers, type DataWorkerInit, type DataWorkerJob, type DataWorkerReply } from './data-worker.js';
import { prepareMicroBatch, type FeedContext } from './feeds.js';
import { FrozenSessions } from './frozen.js';

const init = workerData as DataWorkerInit;
const port = parentPort;
if (!port) throw new Error('the training data thread runs as a worker thread only');
const post = (m: DataWorkerReply, transfer: ArrayBuffer[] = []) => port.postMessage(m, transfer);

try {
  await initBackend({ backend: init.backend, log: null });
  const ort = await loadOnnxRuntime('the onnx training engine');
  const model = MigeModel.skeleton(init.config, T5Tokenizer.fromTokenizerJson(init.tokenizer));
  // Every image the cache is asked for has been filled by the frozen session first (prepareMicroBatch).
  const noVae = { encode: (): never => { throw new Error('the data thread encodes with its frozen VAE session only'); } };
  const ctx: FeedContext = {
    model,
    dataset: await datasetFromSource(init.dataset),
    cfg: init.cfg,
    latents: new LatentCache(noVae),
    frozen: await FrozenSessions.open(ort, init.graphs, init.sessionOptions),
  };
  // One job at a time, in the order asked: the cache then fills exactly as on the main thread.
  let queue = Promise.resolve();
  port.on('message', (job: DataWorkerJob) => {
    queue = queue.then(async () => {
      try {
        const prepared = await prepareMicroBatch(ctx, job.step, job.micro, job.draws);
        post({ id: job.id, ok: true, prepared }, feedBuffers(prepared.feeds));
      } catch (e) {
        post({ id: job.id, ok: false, error: describeError(e) });
      }
    });
  });
  post({ ready: true });
} catch (e) {
  post({ ok: false, error: describeError(e) });
}
