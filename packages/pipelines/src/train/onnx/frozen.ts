import { OnnxBuilder, tensorParamSource, tf, type ImageBatch } from '@mige/core';
import { emitEvaViT } from '@mige/encoder';
import { DiagonalGaussianDistribution } from '@mige/vae';
import type { MigeModel } from '../../model/index.js';
import { buildComponentGraph } from '../../onnx/graphs.js';
import type { OrtModule } from '../../onnx/sessions.js';
import type * as Ort from 'onnxruntime-node';

/**
 * The frozen networks of a training step on ONNX Runtime: the EVA ViT (without ln_vision, which
 * trains) and the VAE encoder. Their weights never change, so they are initializers (folded and
 * pre-packed once), with a dynamic batch.
 */
export class FrozenSessions {
  private constructor(
    private readonly ort: OrtModule,
    private readonly vit: Ort.InferenceSession,
    private readonly vae: Ort.InferenceSession,
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
      return new FrozenSessions(ort, vitSession, await ort.InferenceSession.create(vae.graph.serialize(), options));
    } catch (error) {
      await vitSession.release();
      throw error;
    }
  }

  /** images [n, 3, V, V] (blipEvalTransform'd) → the ViT's last hidden state [n, 1 + N, Dv], as a Float32Array. */
  async vitEmbeds(images: Float32Array, n: number, side: number): Promise<Float32Array> {
    const out = await this.vit.run({ images: new this.ort.Tensor('float32', images, [n, 3, side, side]) });
    return out.image_embeds?.data as Float32Array;
  }

  /** The VAE encoder's latent distribution of images [n, 3, S, S] in [-1, 1]. */
  async encode(images: ImageBatch): Promise<DiagonalGaussianDistribution> {
    const data = images.dataSync() as Float32Array;
    const out = await this.vae.run({ images: new this.ort.Tensor('float32', data, images.shape) });
    const m = out.moments as Ort.Tensor;
    const moments = tf.tensor4d(m.data as Float32Array, m.dims as [number, number, number, number]);
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      moments.dispose();
    }
  }

  async release(): Promise<void> {
    await Promise.all([this.vit.release(), this.vae.release()]);
  }
}
