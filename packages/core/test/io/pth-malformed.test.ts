import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../../src/testing/index.js';
import { PthReader } from '../../src/io/pth.js';
import { buildZip, checkpointZip, pickleBytes, str, tensorPickle } from './helpers/zip-builder.js';

const tmp = lazyTempDir('io-pth-bad');

afterAll(tmp.remove);

const tempDir = tmp.get;
let counter = 0;

function writeCheckpoint(bytes: Uint8Array): string {
  const file = path.join(tempDir(), `c${counter++}.pth`);
  fs.writeFileSync(file, bytes);
  return file;
}

/** {'w': <tensor>} as a torch.save pickle. */
const stateDict = (...tensor: Uint8Array[]): Uint8Array => pickleBytes([0x80, 2], '}(', str('w'), ...tensor, 'u.');

describe('crafted checkpoints', () => {
  it('a well-formed crafted checkpoint loads (the baseline for the cases below)', () => {
    const file = writeCheckpoint(
      checkpointZip(stateDict(tensorPickle('0', 6, 1, [2, 2], [1, 2])), { 0: [0, 1, 2, 3, 4, 5] }),
    );
    const reader = PthReader.open(file);
    // Storage elements 1.. viewed as [[s1, s3], [s2, s4]].
    expect(Array.from(reader.read('w').data)).toEqual([1, 3, 2, 4]);
    reader.close();
  });

  const cases: [string, Uint8Array, RegExp][] = [
    [
      'view reaching past its storage',
      checkpointZip(stateDict(tensorPickle('0', 2, 0, [3], [1])), { 0: [1, 2] }),
      /tensor 'w' \(shape \[3\], stride \[1\], offset 0\) reaches past its storage of 2 elements/,
    ],
    [
      'storage without a data entry',
      checkpointZip(stateDict(tensorPickle('7', 2, 0, [2], [1])), { 0: [1, 2] }),
      /invalid storage reference: storage '7' has no data entry in the archive/,
    ],
    [
      'storage entry smaller than declared',
      checkpointZip(stateDict(tensorPickle('0', 4, 0, [4], [1])), { 0: [1, 2] }),
      /storage '0' needs 16 bytes but its entry has 8/,
    ],
    [
      'size and stride of different rank',
      checkpointZip(stateDict(tensorPickle('0', 4, 0, [2, 2], [1])), { 0: [1, 2, 3, 4] }),
      /torch._utils._rebuild_tensor_v2: size has 2 dims but stride has 1/,
    ],
    [
      'too many elements to load',
      checkpointZip(stateDict(tensorPickle('0', 1, 0, [255, 255, 255, 255, 255], [0, 0, 0, 0, 0])), { 0: [1] }),
      /tensor 'w' has shape \[255, 255, 255, 255, 255\]: too many elements to load/,
    ],
    [
      'malformed persistent id',
      checkpointZip(pickleBytes([0x80, 2], '(', str('storage'), 'tQ.')),
      /invalid storage reference: expected \('storage', type, key, location, numel\)/,
    ],
    [
      'unlisted storage type',
      checkpointZip(
        pickleBytes('(', str('storage'), 'ctorch\nComplexFloatStorage\n', str('0'), str('cpu'), [0x4b, 1], 'tQ.'),
      ),
      /forbidden global 'torch.ComplexFloatStorage'/,
    ],
    [
      'no data.pkl',
      buildZip({ 'archive/version': '3\n' }),
      /zip archive has no <archive>\/data.pkl: not a torch.save checkpoint/,
    ],
    [
      'big-endian archive',
      buildZip({ 'archive/data.pkl': pickleBytes('}.'), 'archive/byteorder': 'big' }),
      /unsupported byte order 'big'/,
    ],
    [
      'a single tensor instead of a dict',
      checkpointZip(pickleBytes(tensorPickle('0', 1, 0, [1], [1]), '.'), { 0: [1] }),
      /the checkpoint's root is a tensor, not a dict/,
    ],
    [
      'a reference cycle',
      checkpointZip(pickleBytes('}(', str('a'), ']q', [0], 'h', [0], 'au.')),
      /the checkpoint contains a reference cycle at 'a.0'/,
    ],
    [
      'exponential sharing (a billion-node tree from a tiny pickle)',
      // {'x': L9}, L0 = [[], ...]; Lk = [L(k-1)] * 10, nine levels deep: 10^9 logical nodes.
      checkpointZip(
        pickleBytes(
          '}',
          str('x'),
          ']',
          ...Array.from({ length: 9 }, () =>
            pickleBytes('q', [0], '0]', '(', ...Array.from({ length: 10 }, () => pickleBytes('h', [0])), 'e'),
          ),
          's.',
        ),
      ),
      /the checkpoint has more than 1000000 entries/,
    ],
  ];

  for (const [name, bytes, message] of cases) {
    it(`rejects: ${name}`, () => {
      const file = writeCheckpoint(bytes);
      expect(() => PthReader.open(file)).toThrow(message);
    });
  }

  it('the same storage with two different types is rejected', () => {
    const a = tensorPickle('0', 2, 0, [2], [1]);
    const b = pickleBytes(
      'ctorch._utils\n_rebuild_tensor_v2\n(',
      pickleBytes('(', str('storage'), 'ctorch\nLongStorage\n', str('0'), str('cpu'), [0x4b, 2], 'tQ'),
      [0x4b, 0],
      '(',
      [0x4b, 1],
      't(',
      [0x4b, 1],
      't',
      [0x89],
      'N',
      'tR',
    );
    const file = writeCheckpoint(checkpointZip(pickleBytes('}(', str('a'), a, str('b'), b, 'u.'), { 0: [1, 2, 3, 4] }));
    expect(() => PthReader.open(file)).toThrow(/storage '0' is referenced with two different types or sizes/);
  });
});
