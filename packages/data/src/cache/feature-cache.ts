import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import {
  decodeImage,
  MigeInputError,
  SafetensorsReader,
  writeSafetensors,
  type RgbImage,
  type Rng,
  type WritableTensor,
} from '@mige/core';
import { hashFile } from './hash.js';
import { readIndex, writeIndex } from './index-file.js';
import { splitBatch } from './split.js';
import type { BuildOptions, BuildResult, CacheEncoders, CacheIndex, CachedFeatures, FeatureTensor } from './types.js';

const DEFAULT_SHARD_SIZE = 256;

interface Pending {
  hash: string;
  path: string;
  bytes: Uint8Array;
}

/**
 * Pre-encoded VAE posteriors and ViT features, keyed by the sha256 of each image file, in
 * safetensors shards (`<hash>/mean`, `<hash>/std`, `<hash>/vit`) listed by index.json. Shards are
 * written atomically and the index is rewritten (atomically) after each one, so a crash or abort
 * loses at most the shard in progress and a rerun of `build` picks up where it stopped.
 */
export class FeatureCache {
  private readonly where = new Map<string, string>();
  private readonly readers = new Map<string, SafetensorsReader>();

  private constructor(
    readonly dir: string,
    private index: CacheIndex,
  ) {
    for (const shard of index.shards) for (const h of shard.hashes) this.where.set(h, shard.file);
  }

  /** Opens (creating if needed) the cache directory. */
  static open(dir: string): FeatureCache {
    mkdirSync(dir, { recursive: true });
    return new FeatureCache(dir, readIndex(dir));
  }

  get size(): number {
    return this.where.size;
  }

  has(hash: string): boolean {
    return this.where.has(hash);
  }

  hashes(): string[] {
    return [...this.where.keys()];
  }

  /** Encodes every image not yet cached; duplicates (same bytes) are encoded once. */
  async build(imagePaths: readonly string[], encoders: CacheEncoders, options: BuildOptions = {}): Promise<BuildResult> {
    const shardSize = options.shardSize ?? DEFAULT_SHARD_SIZE;
    if (!Number.isInteger(shardSize) || shardSize < 1) {
      throw new MigeInputError(`shardSize must be a positive integer, got ${shardSize}`, 'FeatureCache.build');
    }
    const { signal, onProgress } = options;
    const result: BuildResult = { encoded: 0, skipped: 0, shardsWritten: 0, hashes: [] };
    const queued = new Set<string>();
    let pending: Pending[] = [];
    const report = () =>
      onProgress?.({ done: result.hashes.length, total: imagePaths.length, skipped: result.skipped, shardsWritten: result.shardsWritten });

    const flush = async () => {
      signal?.throwIfAborted();
      await this.writeShard(pending, encoders);
      result.encoded += pending.length;
      result.shardsWritten++;
      pending = [];
      queued.clear();
      report();
    };

    for (const path of imagePaths) {
      signal?.throwIfAborted();
      const { hash, bytes } = await hashFile(path);
      result.hashes.push(hash);
      if (this.where.has(hash) || queued.has(hash)) {
        result.skipped++;
        continue;
      }
      queued.add(hash);
      pending.push({ hash, path, bytes });
      if (pending.length >= shardSize) await flush();
    }
    if (pending.length > 0) await flush();
    report();
    return result;
  }

  private async writeShard(items: readonly Pending[], encoders: CacheEncoders): Promise<void> {
    const images: RgbImage[] = [];
    for (const item of items) images.push(await decodeImage(item.bytes, { label: item.path }));
    const vae = await encoders.encodeVae(images);
    const vit = await encoders.encodeVit(images);
    const n = items.length;
    const means = splitBatch(vae.mean, n, 'encodeVae().mean');
    const stds = splitBatch(vae.std, n, 'encodeVae().std');
    const vits = splitBatch(vit, n, 'encodeVit()');
    const tensors = new Map<string, WritableTensor>();
    const f32 = (t: FeatureTensor): WritableTensor => ({ dtype: 'F32', shape: t.shape, data: t.data });
    items.forEach((item, i) => {
      tensors.set(`${item.hash}/mean`, f32(means[i]!));
      tensors.set(`${item.hash}/std`, f32(stds[i]!));
      tensors.set(`${item.hash}/vit`, f32(vits[i]!));
    });
    // Named by position in the index: a shard left by a crash before its index update is simply
    // overwritten by the rerun.
    const file = `shard-${String(this.index.shards.length).padStart(5, '0')}.safetensors`;
    writeSafetensors(join(this.dir, file), tensors, { format: 'mige-feature-cache' });
    const hashes = items.map((it) => it.hash);
    this.index = { version: 1, shards: [...this.index.shards, { file, hashes }] };
    writeIndex(this.dir, this.index);
    for (const h of hashes) this.where.set(h, file);
  }

  /** The cached features of one image; throws MigeInputError if the hash is not cached. */
  get(hash: string): CachedFeatures {
    const file = this.where.get(hash);
    if (file === undefined) throw new MigeInputError(`no cached features for ${hash}`, this.dir);
    const reader = this.reader(file);
    const read = (name: string): FeatureTensor => {
      const t = reader.read(`${hash}/${name}`);
      if (!(t.data instanceof Float32Array)) throw new MigeInputError(`tensor ${hash}/${name} is not float`, join(this.dir, file));
      return { data: t.data, shape: t.shape };
    };
    return { mean: read('mean'), std: read('std'), vit: read('vit') };
  }

  /** A latent drawn from the cached posterior: mean + std·ε with ε ~ N(0, 1) from `rng`. */
  sampleLatent(hash: string, rng: Rng): FeatureTensor {
    const { mean, std } = this.get(hash);
    const out = new Float32Array(mean.data.length);
    for (let i = 0; i < out.length; i++) out[i] = mean.data[i]! + std.data[i]! * rng.normal();
    return { data: out, shape: mean.shape };
  }

  private reader(file: string): SafetensorsReader {
    let r = this.readers.get(file);
    if (!r) {
      r = SafetensorsReader.open(join(this.dir, file));
      this.readers.set(file, r);
    }
    return r;
  }

  /** Closes open shard files. */
  close(): void {
    for (const r of this.readers.values()) r.close();
    this.readers.clear();
  }
}
