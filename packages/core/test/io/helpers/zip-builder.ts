import { buildZip } from '../../../src/testing/index.js';

export { buildZip };

/** A protocol-2 pickle assembled from opcode strings and byte arrays. */
export function pickleBytes(...parts: (string | number[] | Uint8Array)[]): Uint8Array {
  return Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : Buffer.from(p))));
}

/** BINUNICODE of `s`. */
export function str(s: string): Uint8Array {
  const bytes = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(5);
  head.write('X', 0, 'latin1');
  head.writeUInt32LE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

/** A torch-style tensor: _rebuild_tensor_v2(('storage', FloatStorage, key, 'cpu', numel), offset, size, stride, False, OrderedDict()). */
export function tensorPickle(key: string, numel: number, offset: number, size: number[], stride: number[]): Uint8Array {
  const ints = (xs: number[]) => pickleBytes('(', ...xs.map((x) => [0x4b, x]), 't');
  return pickleBytes(
    'ctorch._utils\n_rebuild_tensor_v2\n(',
    pickleBytes('(', str('storage'), 'ctorch\nFloatStorage\n', str(key), str('cpu'), [0x4b, numel], 'tQ'),
    [0x4b, offset],
    ints(size),
    ints(stride),
    [0x89],
    'ccollections\nOrderedDict\n)R',
    'tR',
  );
}

/** A checkpoint zip around `pickle`, with float32 storages given by key. */
export function checkpointZip(pickle: Uint8Array, storages: Record<string, number[]> = {}): Uint8Array {
  const entries: Record<string, Uint8Array | string> = { 'archive/data.pkl': pickle };
  for (const [key, values] of Object.entries(storages))
    entries[`archive/data/${key}`] = new Uint8Array(new Float32Array(values).buffer);
  entries['archive/version'] = '3\n';
  return buildZip(entries);
}
