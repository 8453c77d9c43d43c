import * as zlib from 'node:zlib';
import { buildZip, type ZipEntryContent } from '@mige/core/testing';

export { buildZip };

export type DeflatedData = NonNullable<ZipEntryContent['deflated']>;

/** A torch.save zip: `archive/data.pkl`, float32 (or raw) storages under `archive/data/<key>`, `archive/version`. */
export function torchZip(
  pickle: Uint8Array,
  storages: Record<string, Uint8Array | number[]> = {},
  options: { deflatePickle?: boolean; pickleDeclaredSize?: number } = {},
): Buffer {
  const entries: [string, ZipEntryContent][] = [
    ['archive/data.pkl', { data: pickle, ...(options.deflatePickle ? { deflate: true } : {}), ...(options.pickleDeclaredSize !== undefined ? { declaredSize: options.pickleDeclaredSize } : {}) }],
  ];
  for (const [key, values] of Object.entries(storages)) {
    entries.push([`archive/data/${key}`, { data: values instanceof Uint8Array ? values : new Uint8Array(new Float32Array(values).buffer) }]);
  }
  entries.push(['archive/version', { data: '3\n' }]);
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
