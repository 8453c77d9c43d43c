// The entry of a training worker thread (see TrainWorkers): rebuilds the model and the dataset,
// then per job loads the shared weights and returns its shares' gradients.
import { parentPort, workerData } from 'node:worker_threads';
import { initBackend, tf } from '@mige/core';
import { loadModel } from '../model/index.js';
import { LatentCache } from './latent-cache.js';
import { shareGradients, type GradientContext } from './micro-batch.js';
import { datasetFromSource } from './train-data.js';
import { paramOffsets, type TrainWorkerInit, type TrainWorkerJob, type TrainWorkerReply } from './train-workers.js';

const init = workerData as TrainWorkerInit;
const port = parentPort;
if (!port) throw new Error('train-worker runs as a worker thread only');
const post = (m: TrainWorkerReply) => port.postMessage(m);

try {
  await initBackend({ backend: init.backend, log: null });
  const model = loadModel(init.modelDir);
  const params = model.trainableParameters();
  const names = params.map(([n]) => n);
  if (names.join('\n') !== init.names.join('\n')) throw new Error('the worker model\'s trainable parameters differ from the main thread\'s');
  const ctx: GradientContext = { model, params, dataset: await datasetFromSource(init.dataset), cfg: init.cfg, latents: new LatentCache(model.vae) };
  const offsets = paramOffsets(params.map(([, p]) => p.size));
  const weights = new Float32Array(init.weights), grads = new Float32Array(init.grads);
  port.on('message', (job: TrainWorkerJob) => {
    void (async () => {
      try {
        params.forEach(([, p], i) => {
          const off = offsets[i] as number;
          tf.tidy(() => p.assign(tf.tensor(weights.subarray(off, off + p.size), p.shape)));
        });
        const { loss, grads: acc } = await shareGradients(ctx, job.step, job.micros, init.workers, init.index);
        const present = params.map(([, p], i) => {
          const g = acc[p.name];
          if (g) grads.set(g.dataSync() as Float32Array, offsets[i]);
          return g !== undefined;
        });
        tf.dispose(Object.values(acc));
        post({ ok: true, loss, present });
      } catch (e) {
        post({ ok: false, error: e instanceof Error ? e.message : String(e) });
      }
    })();
  });
  post({ ready: true });
} catch (e) {
  post({ ok: false, error: e instanceof Error ? e.message : String(e) });
}
