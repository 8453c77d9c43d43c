import { OnnxBuilder, tensorParamSource, tf, type ImageBatch } from '@mige/core';
import { emitEvaViT } from '@mige/encoder';
import { DiagonalGaussianDistribution } from '@mige/vae';
import type { MigeModel } from '../../model/index.js';
import { buildComponentGraph } from '../../onnx/graphs.js';
import type { OrtModule } from '../../onnx/sessions.js';
import type * as Ort from 'onnxruntime-node';

/**
 * Images go through the frozen networks in chunks of this many (the last one padded with
 * zeros): a run then sees one input shape, whose memory plan ONNX Runtime keeps, instead of a new
 * batch size every step (each new shape costs about a second run's time in allocation).
 */
export const FROZEN_CHUNK = 4;

/**
 * The frozen networks of a training step on ONNX Runtime: the EVA ViT (without ln_vision, which
 * trains) and the VAE encoder. Their weights never change, so they are initializers (folded and
 * pre-packed once).
 */
export class FrozenSessions {
  private constructor(
    private readonly ort: OrtModule,
    private readonly vit: Ort.InferenceSession,
    private readonly vae: Ort.InferenceSession,
    /** The VAE's moments per image: [2·latent channels, latent side, latent side]. */
    private readonly moments: [number, number, number],
  ) {}

  static async open(ort: OrtModule, model: MigeModel, options: Ort.InferenceSession.SessionOptions): Promise<FrozenSessions> {
    const c = model.config;
    const v = c.encoder.vision;
    const g = new OnnxBuilder({ name: 'mige-vit-frozen', params: { mode: 'initializer', source: tensorParamSource(model.namedParameters()) } });
    const images = g.input('images', ['batch', 3, v.imgSize, v.imgSize]);
    g.output(emitEvaViT(g, model.encoder.module.vision.visualEncoder, images, 'visual_encoder'), 'image_embeds', ['batch', 1 + (v.imgSize / v.patchSize) ** 2, v.embedDim]);
    const vae = buildComponentGraph(model, 'vae-encoder', { weightType: 'fp32', batch: 'batch', t5MaxLength: c.encoder.maxLength });
    const vitSession = await ort.InferenceSession.create(g.serialize(), options);
    try {
      const side = model.latentSize();
      return new FrozenSessions(ort, vitSession, await ort.InferenceSession.create(vae.graph.serialize(), options), [2 * c.vae.latentChannels, side, side]);
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
    const chunk = new Float32Array(FROZEN_CHUNK * per);
    let out: Float32Array | undefined;
    for (let start = 0; start < n; start += FROZEN_CHUNK) {
      const count = Math.min(FROZEN_CHUNK, n - start);
      chunk.fill(0);
      chunk.set(data.subarray(start * per, (start + count) * per));
      const r = (await session.run({ [input]: new this.ort.Tensor('float32', chunk, [FROZEN_CHUNK, ...item]) }))[output] as Ort.Tensor;
      const values = r.data as Float32Array;
      const outPer = values.length / FROZEN_CHUNK;
      out ??= new Float32Array(n * outPer);
      out.set(values.subarray(0, count * outPer), start * outPer);
    }
    return out ?? new Float32Array(0);
  }

  async release(): Promise<void> {
    await Promise.all([this.vit.release(), this.vae.release()]);
  }
}
