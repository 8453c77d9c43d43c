import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, nn, SafetensorsReader } from '@mige/core';
import { parseT5Config } from './t5-config.js';
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

/**
 * Loads an HF T5EncoderModel folder: `config.json` plus `model.safetensors`, or shards listed
 * in `model.safetensors.index.json`. Weights are read one tensor at a time into a model built
 * without random init. Loading is strict: a missing, unexpected or misshapen tensor is a
 * MigeInputError naming it. Decoder weights of a full T5 checkpoint (`decoder.*`, `lm_head.*`)
 * are skipped, so a T5ForConditionalGeneration folder loads too.
 */
export function loadT5Encoder(folder: string): T5Encoder {
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

  const model = nn.withoutInit(() => new T5Encoder(config));
  const readers: SafetensorsReader[] = [];
  try {
    for (const f of files) readers.push(SafetensorsReader.open(f));
    const reader = new ShardedReader(readers, folder);
    const encoderOnly = nn.renameKeys(reader, (k) => (k.startsWith('decoder.') || k.startsWith('lm_head.') ? undefined : k));
    model.loadStateDict(encoderOnly, { source: folder });
  } catch (error) {
    model.dispose();
    throw error;
  } finally {
    for (const r of readers) r.close();
  }
  return model;
}
