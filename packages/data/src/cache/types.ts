import type { RgbImage } from '@mige/core';

/** A float32 tensor, row-major. Batched encoder outputs have the batch size first. */
export interface FeatureTensor {
  data: Float32Array;
  shape: number[];
}

/**
 * Caller-supplied encoders, so @mige/data stays independent of the vae/encoder packages. Each
 * returns one batched tensor with shape[0] === images.length.
 */
export interface CacheEncoders {
  /** VAE posterior: per-image latent mean and std (std = exp(logvar / 2)). */
  encodeVae(images: RgbImage[]): Promise<{ mean: FeatureTensor; std: FeatureTensor }>;
  /** ViT (e.g. EVA/BLIP) features. */
  encodeVit(images: RgbImage[]): Promise<FeatureTensor>;
}

export interface CachedFeatures {
  mean: FeatureTensor;
  std: FeatureTensor;
  vit: FeatureTensor;
}

export interface BuildProgress {
  /** Images handled so far in this build, skipped ones included. */
  done: number;
  total: number;
  /** Images that were already cached (or duplicates) and not encoded again. */
  skipped: number;
  /** Shards written in this build. */
  shardsWritten: number;
}

export interface BuildOptions {
  /** New images per shard (default 256). */
  shardSize?: number;
  onProgress?: (progress: BuildProgress) => void;
  /** Checked before each shard; an abort leaves every finished shard usable and the build resumable. */
  signal?: AbortSignal;
}

export interface BuildResult {
  encoded: number;
  skipped: number;
  shardsWritten: number;
  /** Content hash of every input path, in input order. */
  hashes: string[];
}

/** index.json: which shard holds which hash. */
export interface CacheIndex {
  version: 1;
  shards: { file: string; hashes: string[] }[];
}
