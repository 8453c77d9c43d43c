import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, nn, SafetensorsReader } from '@mige/core';
import { parseT5Config, type T5EncoderConfig } from './t5-config.js';
import { T5Encoder } from './t5-encoder.js';

function readJson(path: string): unknown {
  if (!existsSync(path)) throw new MigeInputError('not found', path);
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new MigeInputError(`is not valid JSON (${(error as Error).message})`, path);
  }
}

/** Several safetensors shards as one reader: each key is read from the shard that holds it. */
class ShardedReader implements nn.TensorReader {
  private readonly owner = new Map<string, SafetensorsReader>();
  constructor(private readonly shards: SafetensorsReader[], where: string) {
    for (const shard of shards) {
      for (const k of shard.keys()) {
        if (this.owner.has(k)) throw new MigeInputError(`tensor ${k} is in more than one shard`, where);
        this.owner.set(k, shard);
      }
    }
  }
  keys(): Iterable<string> {
    return this.owner.keys();
  }
  private shard(k: string): SafetensorsReader {
    const s = this.owner.get(k);
    if (!s) throw new MigeInputError(`no tensor named ${k}`, 'sharded checkpoint');
    return s;
  }
  info(k: string): { shape: readonly number[] } {
    return this.shard(k).info(k);
  }
  read(k: string): nn.StateDictValue {
    return this.shard(k).read(k);
  }
  close(): void {
    for (const s of this.shards) s.close();
  }
}

/** The shard files an HF `model.safetensors.index.json` names. */
function shardFiles(folder: string, indexPath: string): string[] {
  const index = readJson(indexPath);
  const map = typeof index === 'object' && index !== null ? (index as { weight_map?: unknown }).weight_map : undefined;
  if (typeof map !== 'object' || map === null) throw new MigeInputError('has no weight_map object', indexPath);
  const files = new Set<string>();
  for (const f of Object.values(map)) {
    // Shard names are plain file names next to the index; anything else could escape the folder.
    if (typeof f !== 'string' || f.includes('/') || f.includes('\\') || f.startsWith('.')) {
      throw new MigeInputError(`weight_map names an invalid shard file ${JSON.stringify(f)}`, indexPath);
    }
    files.add(f);
  }
  return [...files].map((f) => join(folder, f));
}

/** An HF T5 folder opened for reading: its config and a lazy reader of the encoder's tensors (HF names). */
export interface T5Checkpoint {
  config: T5EncoderConfig;
  /** The encoder's tensors under HF's names; decoder weights (`decoder.*`, `lm_head.*`) are left out. */
  reader: nn.TensorReader;
  close(): void;
}

/**
 * Opens an HF T5EncoderModel folder: `config.json` plus `model.safetensors`, or shards listed in
 * `model.safetensors.index.json`. Only headers are read; each tensor is read when asked for.
 */
export function openT5Checkpoint(folder: string): T5Checkpoint {
  if (!existsSync(folder) || !statSync(folder).isDirectory()) throw new MigeInputError('is not a folder (expected an HF T5 folder with config.json)', folder);
  const configPath = join(folder, 'config.json');
  const config = parseT5Config(readJson(configPath), configPath);
  const single = join(folder, 'model.safetensors');
  const indexPath = join(folder, 'model.safetensors.index.json');
  let files: string[];
  if (existsSync(single)) files = [single];
  else if (existsSync(indexPath)) files = shardFiles(folder, indexPath);
  else throw new MigeInputError('no weights: expected model.safetensors or model.safetensors.index.json', folder);
  for (const f of files) if (!existsSync(f)) throw new MigeInputError('shard file not found', f);
  const readers: SafetensorsReader[] = [];
  const close = (): void => readers.forEach((r) => r.close());
  try {
    for (const f of files) readers.push(SafetensorsReader.open(f));
    const sharded = new ShardedReader(readers, folder);
    const reader = nn.renameKeys(sharded, (k) => (k.startsWith('decoder.') || k.startsWith('lm_head.') ? undefined : k));
    return { config, reader, close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Loads an HF T5EncoderModel folder (see openT5Checkpoint). Weights are read one tensor at a time
 * into a model built without random init. Loading is strict: a missing, unexpected or misshapen
 * tensor is a MigeInputError naming it. Decoder weights of a full T5 checkpoint are skipped, so a
 * T5ForConditionalGeneration folder loads too.
 */
export function loadT5Encoder(folder: string): T5Encoder {
  const checkpoint = openT5Checkpoint(folder);
  try {
    const model = nn.withoutInit(() => new T5Encoder(checkpoint.config));
    try {
      model.loadStateDict(checkpoint.reader, { source: folder });
    } catch (error) {
      model.dispose();
      throw error;
    }
    return model;
  } finally {
    checkpoint.close();
  }
}
