import * as zlib from 'node:zlib';

/** One zip entry; the declared sizes may lie, for crafted archives. */
export interface ZipEntrySpec {
  name: string;
  data: Uint8Array | string;
  /** Deflate the data (method 8); default: stored. */
  deflate?: boolean;
  /** Overrides the uncompressed size the directory declares. */
  declaredSize?: number;
  /** Overrides the CRC-32 (0: "not computed"). */
  crc?: number;
  /** Already-deflated data (`data` is then ignored): for bombs too big to hold inflated. */
  deflated?: DeflatedData;
}

export interface DeflatedData {
  bytes: Uint8Array;
  /** Inflated size and CRC-32. */
  size: number;
  crc: number;
}

/** A zip archive as torch.save lays it out (no ZIP64), entries in the given order. */
export function buildZip(entries: readonly ZipEntrySpec[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const e of entries) {
    const raw = typeof e.data === 'string' ? Buffer.from(e.data) : Buffer.from(e.data);
    const data = e.deflated ? Buffer.from(e.deflated.bytes) : e.deflate ? zlib.deflateRawSync(raw, { level: 9 }) : raw;
    const name = Buffer.from(e.name);
    const crc = e.crc ?? e.deflated?.crc ?? zlib.crc32(raw) >>> 0;
    const size = e.declaredSize ?? e.deflated?.size ?? raw.length;
    const method = e.deflate || e.deflated ? 8 : 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(size, 22);
    local.writeUInt16LE(name.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(size, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, name, data);
    centrals.push(central, name);
    offset += 30 + name.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** A torch.save zip: `archive/data.pkl`, float32 (or raw) storages under `archive/data/<key>`, `archive/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array | number[]> = {},
  options: { deflatePickle?: boolean; deflateStorages?: boolean; pickleDeclaredSize?: number } = {},
): Buffer {
  const entries: ZipEntrySpec[] = [
    {
      name: 'archive/data.pkl',
      data: pickle,
      ...(options.deflatePickle ? { deflate: true } : {}),
      ...(options.pickleDeclaredSize !== undefined ? { declaredSize: options.pickleDeclaredSize } : {}),
    },
  ];
  for (const [key, values] of Object.entries(storages)) {
    const data = values instanceof Uint8Array ? values : new Uint8Array(new Float32Array(values).buffer);
    entries.push({ name: `archive/data/${key}`, data, ...(options.deflateStorages ? { deflate: true } : {}) });
  }
  entries.push({ name: 'archive/version', data: '3\n' });
  return buildZip(entries);
}

/**
 * Deflates `head`, then `chunk` repeated `times` times, then `tail`, streaming: a bomb of
 * hundreds of MB inflated costs a few hundred KB here and never exists whole in memory.
 */
export async function deflateRepeated(head: Uint8Array, chunk: Uint8Array, times: number, tail: Uint8Array): Promise<DeflatedData> {
  const deflater = zlib.createDeflateRaw({ level: 9, memLevel: 9 });
  const out: Buffer[] = [];
  deflater.on('data', (b: Buffer) => out.push(b));
  const done = new Promise<void>((resolve, reject) => {
    deflater.on('end', resolve);
    deflater.on('error', reject);
  });
  let crc = zlib.crc32(head);
  const write = async (b: Uint8Array): Promise<void> => {
    if (!deflater.write(b)) await new Promise((r) => deflater.once('drain', r));
  };
  await write(head);
  for (let i = 0; i < times; i++) {
    crc = zlib.crc32(chunk, crc);
    await write(chunk);
  }
  crc = zlib.crc32(tail, crc);
  await write(tail);
  deflater.end();
  await done;
  return { bytes: Buffer.concat(out), size: head.length + chunk.length * times + tail.length, crc: crc >>> 0 };
}
