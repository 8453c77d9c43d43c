import * as zlib from 'node:zlib';

/** A minimal zip writer (stored entries) for crafting test archives. */
export function buildZip(entries: Record<string, Uint8Array | string>): Uint8Array {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, content] of Object.entries(entries)) {
    const data = Buffer.from(content);
    const nameBytes = Buffer.from(name);
    const crc = zlib.crc32(data) >>> 0;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(data.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(data.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, nameBytes, data);
    centrals.push(central, nameBytes);
    offset += 30 + nameBytes.length + data.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  const count = Object.keys(entries).length;
  end.writeUInt16LE(count, 8);
  end.writeUInt16LE(count, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

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
