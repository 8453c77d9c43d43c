import { MigeInputError, normalizeImage, resize, type RgbImage, type RgbTriple } from '@mige/core';
import { OnnxModel, splitRows, type OrtTensor } from './onnx-session.js';

export interface ImagePreprocessing {
  /** Square input side the model expects (224 for CLIP ViT-B/32 and DINO ViT-S/16). */
  size: number;
  mean: RgbTriple;
  std: RgbTriple;
  /** Defaults to the model's first input / output. */
  inputName?: string;
  outputName?: string;
}

/** Anything that maps images to unit-length embeddings; the metrics only need this. */
export interface ImageEmbedder {
  embed(images: readonly RgbImage[]): Promise<Float32Array[]>;
}

/**
 * An ONNX image encoder (e.g. an exported CLIP or DINO vision tower). Images are resized to
 * size×size with bicubic (as the reference transforms), normalised, stacked NCHW float32 and the
 * output rows L2-normalised.
 */
export class OnnxImageEncoder implements ImageEmbedder {
  private constructor(
    private readonly model: OnnxModel,
    private readonly pre: ImagePreprocessing,
  ) {}

  static async open(path: string, pre: ImagePreprocessing): Promise<OnnxImageEncoder> {
    if (!Number.isInteger(pre.size) || pre.size < 1) {
      throw new MigeInputError(`size must be a positive integer, got ${pre.size}`, path);
    }
    return new OnnxImageEncoder(await OnnxModel.open(path, pre.inputName, pre.outputName), pre);
  }

  get path(): string {
    return this.model.path;
  }

  /** The NCHW float32 batch the model sees; exposed so tests (and callers) can check preprocessing. */
  preprocess(images: readonly RgbImage[]): OrtTensor {
    const { size, mean, std } = this.pre;
    const plane = size * size * 3;
    const data = new Float32Array(images.length * plane);
    images.forEach((img, i) => {
      const sized = img.width === size && img.height === size ? img : resize(img, size, size, 'bicubic');
      data.set(normalizeImage(sized, { mean, std }).data, i * plane);
    });
    return this.model.float32(data, [images.length, 3, size, size]);
  }

  async embed(images: readonly RgbImage[]): Promise<Float32Array[]> {
    if (images.length === 0) return [];
    const { data, dims } = await this.model.run(this.preprocess(images));
    return splitRows(data, dims, images.length, this.model.path);
  }

  close(): Promise<void> {
    return this.model.close();
  }
}
