import { OnnxBuilder, tensorParamSource, tf, type ImageBatch } from '@mige/core';
import { emitEvaViT } from '@mige/encoder';
import { DiagonalGaussianDistribution } from '@mige/vae';
import type { MigeModel } from '../../model/index.js';
import { buildComponentGraph } from '../../onnx/graphs.js';
import type { OrtModule } from '../../onnx/sessions.js';
import type * as Ort from 'onnxruntime-node';

/**
 * Images go through the frozen networks in chunks of this many, then the rest: runs see at most
 * this many input shapes, whose memory plans ONNX Runtime keeps, instead of a new batch size
 * every step (each new shape costs about a second run's time in allocation). An image's output
 * does not depend on the others in its run (measured bit for bit), so no run is padded.
 */
export const FROZEN_CHUNK = 4;

/**
 * The frozen networks of a training step as ONNX models: the EVA ViT (without ln_vision, which
 * trains) and the VAE encoder, their weights as initializers (folded and pre-packed once, since
 * they never change). Plain bytes, so that the data thread (DataWorker) opens the same networks.
 */
export interface FrozenGraphs {
  vit: Uint8Array;
  vae: Uint8Array;
  /** The VAE's moments per image: [2·latent channels, latent side, latent side]. */
  moments: [number, number, number];
}

export function frozenGraphs(model: MigeModel): FrozenGraphs {
  const c = model.config;
  const v = c.encoder.vision;
  const g = new OnnxBuilder({ name: 'mige-vit-frozen', params: { mode: 'initializer', source: tensorParamSource(model.namedParameters()) } });
  const images = g.input('images', ['batch', 3, v.imgSize, v.imgSize]);
  g.output(emitEvaViT(g, model.encoder.module.vision.visualEncoder, images, 'visual_encoder'), 'image_embeds', ['batch', 1 + (v.imgSize / v.patchSize) ** 2, v.embedDim]);
  const vae = buildComponentGraph(model, 'vae-encoder', { weightType: 'fp32', batch: 'batch', t5MaxLength: c.encoder.maxLength });
  const side = model.latentSize();
  return { vit: g.serialize(), vae: vae.graph.serialize(), moments: [2 * c.vae.latentChannels, side, side] };
}

/** The frozen networks of a training step (FrozenGraphs) as ONNX Runtime inference sessions. */
export class FrozenSessions {
  private constructor(
    private readonly ort: OrtModule,
    private readonly vit: Ort.InferenceSession,
    private readonly vae: Ort.InferenceSession,
    private readonly moments: [number, number, number],
  ) {}

  static async open(ort: OrtModule, graphs: FrozenGraphs, options: Ort.InferenceSession.SessionOptions): Promise<FrozenSessions> {
    const vitSession = await ort.InferenceSession.create(graphs.vit, options);
    try {
      return new FrozenSessions(ort, vitSession, await ort.InferenceSession.create(graphs.vae, options), graphs.moments);
    } catch (error) {
      await vitSession.release();
      throw error;
    }
  }

  /** images [n, 3, V, V] (blipEvalTransform'd) → the ViT's last hidden state [n, 1 + N, Dv], as a Float32Array. */
  vitEmbeds(images: Float32Array, n: number, side: number): Promise<Float32Array> {
    return this.chunked(this.vit, 'images', 'image_embeds', images, n, [3, side, side]);
  }

  /** The VAE encoder's latent distribution of images [n, 3, S, S] in [-1, 1]. */
  async encode(images: ImageBatch): Promise<DiagonalGaussianDistribution> {
    const [n, c, h, w] = images.shape;
    const data = await this.chunked(this.vae, 'images', 'moments', images.dataSync() as Float32Array, n, [c, h, w]);
    const moments = tf.tensor4d(data, [n, ...this.moments]);
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      moments.dispose();
    }
  }

  /** Runs `session` on n items of `item` dims in chunks of FROZEN_CHUNK; returns the n items' output. */
  private async chunked(session: Ort.InferenceSession, input: string, output: string, data: Float32Array, n: number, item: readonly number[]): Promise<Float32Array> {
    const per = item.reduce((a, b) => a * b, 1);
    let out: Float32Array | undefined;
    for (let start = 0; start < n; start += FROZEN_CHUNK) {
      const count = Math.min(FROZEN_CHUNK, n - start);
      const chunk = data.subarray(start * per, (start + count) * per);
      const r = (await session.run({ [input]: new this.ort.Tensor('float32', chunk, [count, ...item]) }))[output] as Ort.Tensor;
      const values = r.data as Float32Array;
      out ??= new Float32Array((n * values.length) / count);
      out.set(values, (start * values.length) / count);
    }
    return out ?? new Float32Array(0);
  }

  async release(): Promise<void> {
    await Promise.all([this.vit.release(), this.vae.release()]);
  }
}
