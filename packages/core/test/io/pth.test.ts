import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lazyTempDir } from '../../src/testing/index.js';
import { MigeInputError } from '../../src/errors.js';
import { PthReader, PthTensorLeaf, readPthStateDict } from '../../src/io/pth.js';
import { parseSafetensors, serializeSafetensors, type TensorData } from '../../src/io/safetensors.js';
import { expectedPth, expectedValues, pthPath, type ExpectedTensor } from './helpers/expected-pth.js';

const tmp = lazyTempDir('io-pth');

afterAll(tmp.remove);

const tempDir = tmp.get;

function get(map: Map<string, TensorData>, name: string): TensorData {
  const t = map.get(name);
  if (!t) throw new Error(`missing ${name}`);
  return t;
}

/** Values must match exactly: float32 for float dtypes (float64 rounded), integers as int32. */
function expectTensor(actual: TensorData, want: ExpectedTensor, name: string): void {
  expect(actual.shape, name).toEqual(want.shape);
  const isFloat = ['float32', 'float16', 'bfloat16', 'float64'].includes(want.dtype);
  expect(actual.dtype, name).toBe(isFloat ? 'float32' : 'int32');
  expect(actual.data, name).toBeInstanceOf(isFloat ? Float32Array : Int32Array);
  const values = expectedValues(want).map((v) => (isFloat ? Math.fround(v) : v));
  expect(Array.from(actual.data), name).toEqual(values); // toEqual tells -0 from 0 and matches NaN
}

const PLAIN_NAMES = Object.keys(expectedPth.plain);

describe('PthReader on torch.save zip checkpoints', () => {
  for (const file of ['plain.pth', 'plain_proto4.pth', 'plain_deflated.pth', 'plain_zip64.pth']) {
    it(`${file}: every tensor matches torch (names, order, dtypes, shapes, strides, values)`, () => {
      const reader = PthReader.open(pthPath(file));
      try {
        expect(reader.keys()).toEqual(PLAIN_NAMES);
        for (const name of PLAIN_NAMES) {
          const want = expectedPth.plain[name] as ExpectedTensor;
          const info = reader.info(name);
          expect(info.dtype, name).toBe(want.dtype);
          expect(info.stride, name).toEqual(want.stride);
          expect(info.storageOffset, name).toBe(want.storage_offset);
          expectTensor(reader.read(name), want, name);
        }
      } finally {
        reader.close();
      }
    });
  }

  it('covers non-contiguous views, shared storages, scalars and empty tensors', () => {
    const p = expectedPth.plain;
    expect(p.transposed?.contiguous).toBe(false);
    expect(p.sliced?.storage_offset).toBe(6);
    expect(p.expanded?.stride).toEqual([0, 1]);
    expect(p.scalar?.shape).toEqual([]);
    expect(p.empty?.shape).toEqual([0, 3]);
    const reader = PthReader.open(pthPath('plain.pth'));
    for (const [a, b] of expectedPth.plain_storage_shared) {
      expect(reader.info(a).storageKey).toBe(reader.info(b).storageKey);
    }
    expect(reader.info('weight').storageKey).not.toBe(reader.info('bias').storageKey);
    // The transposed view of a [3, 5] matrix: element (i, j) is base[j][i].
    const t = reader.read('transposed');
    expect(t.shape).toEqual([5, 3]);
    expect(t.data[1 * 3 + 2]).toBe(Math.fround(p.transposed?.values[1 * 3 + 2] as number));
    reader.close();
  });

  it('readPthStateDict returns the same as reading tensor by tensor', () => {
    const all = readPthStateDict(pthPath('plain.pth'));
    expect([...all.keys()]).toEqual(PLAIN_NAMES);
    expectTensor(get(all, 'ids'), expectedPth.plain.ids as ExpectedTensor, 'ids');
    expect(Array.from(get(all, 'lm_head.weight').data)).toEqual(Array.from(get(all, 'embed.weight').data));
  });

  it("unwraps {'state_dict': ...} and keeps non-tensor leaves in tree()", () => {
    const reader = PthReader.open(pthPath('wrapped.pth'));
    expect(reader.keys()).toEqual(PLAIN_NAMES);
    expectTensor(reader.read('half'), expectedPth.plain.half as ExpectedTensor, 'half');
    const tree = reader.tree() as Record<string, unknown>;
    expect(tree.epoch).toBe(7);
    expect(tree.optimizer_name).toBe('adamw');
    expect(tree.lr).toBe(0.0001);
    const sd = tree.state_dict as Record<string, unknown>;
    expect(sd.weight).toBeInstanceOf(PthTensorLeaf);
    expect((sd.weight as PthTensorLeaf).shape).toEqual([3, 4]);
    expect((sd.bf16 as PthTensorLeaf).dtype).toBe('bfloat16');
    reader.close();
    // An explicit key picks the same sub-dict.
    expect([...readPthStateDict(pthPath('wrapped.pth'), { key: 'state_dict' }).keys()]).toEqual(PLAIN_NAMES);
  });

  it("flattens deeper nests with dotted names, unwrapping 'model' but not 'ema'", () => {
    const sd = readPthStateDict(pthPath('deep.pth'));
    expect([...sd.keys()]).toEqual(Object.keys(expectedPth.deep));
    for (const [name, want] of Object.entries(expectedPth.deep)) expectTensor(get(sd, name), want, name);
    const ema = readPthStateDict(pthPath('deep.pth'), { key: 'ema' });
    expect([...ema.keys()]).toEqual(['scale']);
    expect(Array.from(get(ema, 'scale').data)).toEqual([0.5]);
    const encoder = readPthStateDict(pthPath('deep.pth'), { key: 'model.encoder.layer' });
    expect([...encoder.keys()]).toEqual(['0.w', '0.b', '1.w']);
    expect(Array.from(get(encoder, '1.w').data)).toEqual([2, 2, 2, 2]);
  });

  it('deep tree() shows configs, tuples, None and booleans', () => {
    const reader = PthReader.open(pthPath('deep.pth'));
    const tree = reader.tree() as Record<string, Record<string, unknown>>;
    expect(tree.step).toBe(100);
    expect(tree.config).toEqual({ lr: 1e-4, betas: [0.9, 0.999], name: 'mige', flags: [true, null] });
    expect((tree.model as Record<string, Record<string, unknown>>).decoder?.name).toBe('dec');
    reader.close();
  });

  it('a missing key names the available ones', () => {
    expect(() => PthReader.open(pthPath('deep.pth'), { key: 'optimizer' })).toThrow(
      /no key 'optimizer' in the checkpoint \(top-level keys: 'model', 'ema', 'step', 'config'\)/,
    );
    expect(() => PthReader.open(pthPath('plain.pth')).read('nope')).toThrow(/no tensor named 'nope'/);
  });

  it('our float32 -> F16/BF16 rounding matches torch bit for bit', () => {
    const sd = readPthStateDict(pthPath('rounding.pth'));
    const x = get(sd, 'x');
    expect(x.data.length).toBe(254);
    const ours = parseSafetensors(
      serializeSafetensors({
        h: { dtype: 'F16', shape: x.shape, data: x.data },
        b: { dtype: 'BF16', shape: x.shape, data: x.data },
      }),
    ).tensors;
    expect(Array.from(get(ours, 'h').data)).toEqual(Array.from(get(sd, 'x_half').data));
    expect(Array.from(get(ours, 'b').data)).toEqual(Array.from(get(sd, 'x_bf16').data));
    expect(get(sd, 'x_half').data[250]).toBe(65504); // 65519 rounds down
    expect(get(sd, 'x_half').data[251]).toBe(Infinity); // 65520 rounds up
  });
});

describe('unsafe or unsupported checkpoints', () => {
  it('refuses os.system (pickled as posix.system) without running it, naming global and file', () => {
    const file = pthPath('evil_os_system.pth');
    expect(() => PthReader.open(file)).toThrow(
      new RegExp(
        `^${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}:evil_os_system/data.pkl: pickle references forbidden global 'posix.system'`,
      ),
    );
    expect(fs.existsSync('/tmp/mige-pwned')).toBe(false);
  });

  it('refuses eval under both spellings (protocol 2 __builtin__, protocol 4 builtins)', () => {
    expect(() => readPthStateDict(pthPath('evil_eval.pth'))).toThrow(
      /evil_eval\.pth.*forbidden global '__builtin__\.eval'/,
    );
    expect(() => readPthStateDict(pthPath('evil_eval_proto4.pth'))).toThrow(
      /evil_eval_proto4\.pth.*forbidden global 'builtins\.eval'/,
    );
    try {
      readPthStateDict(pthPath('evil_eval.pth'));
    } catch (error) {
      expect(error).toBeInstanceOf(MigeInputError);
    }
  });

  it('a legacy (pre-1.6) checkpoint gets a clear re-save hint', () => {
    expect(() => PthReader.open(pthPath('legacy.pth'))).toThrow(
      /legacy\.pth: unsupported legacy \(pre-1\.6, non-zip\) torch\.save format; re-save it with torch>=1\.6/,
    );
    expect(() => PthReader.open(pthPath('plain_pickle.pkl'))).toThrow(/unsupported legacy/);
  });

  it('other files are not checkpoints', () => {
    const file = path.join(tempDir(), 'notes.pth');
    fs.writeFileSync(file, 'hello');
    expect(() => PthReader.open(file)).toThrow(`${file}: not a PyTorch checkpoint`);
    fs.writeFileSync(file, '');
    expect(() => PthReader.open(file)).toThrow(`${file}: not a PyTorch checkpoint`);
  });
});
