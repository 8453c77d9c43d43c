import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pickle, type TensorSpec } from '../builders/pickle.js';
import { buildZip, deflateRepeated, torchZip } from '../builders/zip.js';
import type { FuzzCase, FuzzClass, FuzzExpect } from '../case.js';
import { damages, Random } from '../random.js';

/** torch-made checkpoints of core's own tests (gen_pth.py). */
const FIXTURES = fileURLToPath(new URL('../../../core/test/data/io/', import.meta.url));

function pthCase(id: string, cls: FuzzClass, expect: FuzzExpect, bytes: () => Uint8Array | Promise<Uint8Array>, options?: Record<string, unknown>): FuzzCase {
  return {
    id: `${cls}/${id}`,
    cls,
    expect,
    async make(dir) {
      const path = join(dir, 'model.pth');
      writeFileSync(path, await bytes());
      return { kind: 'lib', target: 'pth', path, ...(options ? { options } : {}) };
    },
  };
}

const refused = (r: RegExp): FuzzExpect => ({ refused: r });
const ACCEPTED: FuzzExpect = { accepted: true };

/** `{'w': tensor}` with a float32 storage of `values` under key '0'. */
function oneTensor(t: Omit<TensorSpec, 'key'>, storage: number[] | Uint8Array = [1, 2, 3, 4]): Uint8Array {
  return torchZip(new Pickle().stateDict({ w: { key: '0', ...t } }).toBytes(), { 0: storage });
}

/** A checkpoint whose data.pkl is `pickle` (no storages). */
function pickleOnly(pickle: Pickle): Uint8Array {
  return torchZip(pickle.toBytes());
}

/** `{'x': <what the body pushes>}`: a mapping root around a crafted value. */
function inDict(body: (p: Pickle) => void): Pickle {
  const p = new Pickle().proto(2).emptyDict().str('x');
  body(p);
  return p.setitem().stop();
}

/** A data.pkl of `head`, `op` repeated `times` times, `tail`, deflated as a stream. */
async function deflatedPickle(head: Uint8Array, op: Uint8Array, times: number, tail: Uint8Array): Promise<Uint8Array> {
  const chunkOps = 1 << 16;
  const chunk = Buffer.concat(Array.from({ length: chunkOps }, () => Buffer.from(op)));
  const deflated = await deflateRepeated(head, chunk, Math.ceil(times / chunkOps), tail);
  return buildZip({ 'archive/data.pkl': { deflated }, 'archive/version': '3\n' });
}

const STRUCTURE: FuzzCase[] = [
  pthCase('baseline-crafted', 'pth-structure', ACCEPTED, () => oneTensor({ numel: 4, size: [2, 2], stride: [2, 1] })),
  pthCase('stride0-1e9', 'pth-structure', refused(/tensor 'w' .* has 1000000000 elements but its storage only 1/), () =>
    oneTensor({ numel: 1, size: [1_000_000_000], stride: [0] }, [1])),
  pthCase('stride0-300M', 'pth-structure', refused(/tensor 'w' .* has 300000000 elements but its storage only 1/), () =>
    oneTensor({ numel: 1, size: [300_000_000], stride: [0] }, [1])),
  pthCase('stride0-2d', 'pth-structure', refused(/tensor 'w' has shape \[40000, 40000\]: too many elements to load/), () =>
    oneTensor({ numel: 4, size: [40_000, 40_000], stride: [0, 0] })),
  pthCase('stride0-5d-overflow', 'pth-structure', refused(/tensor 'w' has shape \[255, 255, 255, 255, 255\]/), () =>
    oneTensor({ numel: 1, size: [255, 255, 255, 255, 255], stride: [0, 0, 0, 0, 0] }, [1])),
  pthCase('overlapping-strides', 'pth-structure', refused(/tensor 'w' .* has 25000000 elements but its storage only 10000/), () =>
    oneTensor({ numel: 10_000, size: [5000, 5000], stride: [1, 1] }, new Array<number>(10_000).fill(1))),
  pthCase(
    'overlapping-strides-raised',
    'pth-structure',
    ACCEPTED,
    () => oneTensor({ numel: 10_000, size: [5000, 5000], stride: [1, 1] }, new Array<number>(10_000).fill(1)),
    { maxElements: 25_000_000, maxBytes: 200_000_000 },
  ),
  pthCase('overlapping-strides-elements-raised-bytes-not', 'pth-structure', refused(/tensor 'w' (decodes to|needs) 100000000 bytes, over the \d+-byte (limit of one read|budget of this load)/), () =>
    oneTensor({ numel: 10_000, size: [5000, 5000], stride: [1, 1] }, new Array<number>(10_000).fill(1)), { maxElements: 25_000_000 }),
  pthCase('expanded-small', 'pth-structure', ACCEPTED, () => oneTensor({ numel: 4, size: [1000, 4], stride: [0, 1] })),
  pthCase('expanded-position-ids', 'pth-structure', ACCEPTED, () => oneTensor({ numel: 4, size: [1, 4], stride: [0, 1] })),
  pthCase('caller-max-elements', 'pth-structure', refused(/tensor 'w' .* has 4 elements, over the limit maxElements=3/), () => oneTensor({ numel: 4, size: [4], stride: [1] }), { maxElements: 3 }),
  pthCase('shape-beyond-safe-integers', 'pth-structure', refused(/tensor 'w' has shape .*too many elements|reaches past/), () =>
    oneTensor({ numel: 4, size: [2 ** 31 - 1, 2 ** 31 - 1, 2 ** 31 - 1], stride: [1, 1, 1] })),
  pthCase('negative-size', 'pth-structure', refused(/size\[0\] must be a non-negative integer/), () =>
    oneTensor({ numel: 4, size: [-1], stride: [1] })),
  pthCase('negative-stride', 'pth-structure', refused(/stride\[0\] must be a non-negative integer/), () =>
    oneTensor({ numel: 4, size: [2], stride: [-1] })),
  pthCase('negative-offset', 'pth-structure', refused(/storage offset must be a non-negative integer/), () =>
    oneTensor({ numel: 4, size: [2], stride: [1], offset: -5 })),
  pthCase('offset-past-storage', 'pth-structure', refused(/reaches past its storage of 4 elements/), () =>
    oneTensor({ numel: 4, size: [1], stride: [1], offset: 1_000_000_000 })),
  pthCase('rank-mismatch', 'pth-structure', refused(/size has 2 dims but stride has 1/), () =>
    oneTensor({ numel: 4, size: [2, 2], stride: [1] })),
  pthCase('storage-missing', 'pth-structure', refused(/storage '7' has no data entry/), () =>
    torchZip(new Pickle().stateDict({ w: { key: '7', numel: 1, size: [1], stride: [1] } }).toBytes(), { 0: [1] })),
  pthCase('storage-too-small', 'pth-structure', refused(/storage '0' needs 400 bytes but its entry has 16/), () =>
    oneTensor({ numel: 100, size: [100], stride: [1] })),
  pthCase('storage-numel-huge', 'pth-structure', refused(/storage '0' (has an invalid size|needs)/), () =>
    oneTensor({ numel: 2 ** 31 - 1, size: [1], stride: [1] })),
  pthCase('unknown-storage-type', 'pth-structure', refused(/forbidden global 'torch.ComplexFloatStorage'/), () =>
    oneTensor({ numel: 4, size: [1], stride: [1], storageType: 'ComplexFloatStorage' })),
  pthCase('uint8-storage', 'pth-structure', ACCEPTED, () =>
    oneTensor({ numel: 16, size: [16], stride: [1], storageType: 'ByteStorage' }, new Uint8Array(16).fill(7))),
  pthCase('bool-storage', 'pth-structure', ACCEPTED, () =>
    oneTensor({ numel: 16, size: [4, 4], stride: [4, 1], storageType: 'BoolStorage' }, new Uint8Array(16).fill(1))),
  pthCase('same-storage-two-types', 'pth-structure', refused(/storage '0' is referenced with two different types or sizes/), () =>
    torchZip(
      new Pickle().stateDict({ a: { key: '0', numel: 4, size: [4], stride: [1] }, b: { key: '0', numel: 2, size: [2], stride: [1], storageType: 'LongStorage' } }).toBytes(),
      { 0: [1, 2, 3, 4] },
    )),
  pthCase('tied-views', 'pth-structure', ACCEPTED, () =>
    torchZip(
      new Pickle().stateDict({ a: { key: '0', numel: 4, size: [4], stride: [1] }, b: { key: '0', numel: 4, size: [2], stride: [2], offset: 1 } }).toBytes(),
      { 0: [1, 2, 3, 4] },
    )),
  pthCase('many-views-of-one-storage', 'pth-structure', refused(/over the .*byte budget|maxBytes/), () => {
    // 3,000 tensors each viewing a whole 64 KiB storage: ~200 MB of float32 from a 300 KB file.
    const tensors: Record<string, TensorSpec> = {};
    for (let i = 0; i < 3000; i++) tensors[`t${i}`] = { key: '0', numel: 16384, size: [16384], stride: [1] };
    return torchZip(new Pickle().stateDict(tensors).toBytes(), { 0: new Array<number>(16384).fill(0.5) });
  }),
  pthCase('empty-state-dict', 'pth-structure', ACCEPTED, () => pickleOnly(new Pickle().proto(2).emptyDict().stop())),
  ...(
    [
      ['root-int', (p: Pickle) => p.int(7)],
      ['root-none', (p: Pickle) => p.none()],
      ['root-list', (p: Pickle) => p.emptyList()],
      ['root-string', (p: Pickle) => p.str('weights')],
      ['root-tuple', (p: Pickle) => p.emptyTuple()],
      ['root-float', (p: Pickle) => p.float(1.5)],
      ['root-bytes', (p: Pickle) => p.bytes(new Uint8Array(8))],
    ] as const
  ).map(([id, body]) =>
    pthCase(id, 'pth-structure', refused(/the checkpoint's root is a .*, not a dict/), () => {
      const p = new Pickle().proto(2);
      body(p);
      return pickleOnly(p.stop());
    }),
  ),
  pthCase('root-tensor', 'pth-structure', refused(/the checkpoint's root is a tensor, not a dict/), () =>
    torchZip(new Pickle().proto(2).tensor({ key: '0', numel: 1, size: [1], stride: [1] }).stop().toBytes(), { 0: [1] })),
  pthCase('nested-lists-200k', 'pth-structure', refused(/nested more than \d+ levels deep/), () =>
    pickleOnly(
      inDict((p) => {
        for (let i = 0; i < 200_000; i++) p.emptyList();
        for (let i = 1; i < 200_000; i++) p.append();
      }),
    )),
  pthCase('nested-dicts-100k', 'pth-structure', refused(/nested more than \d+ levels deep/), () =>
    pickleOnly(
      inDict((p) => {
        for (let i = 0; i < 100_000; i++) p.emptyDict().str('k');
        p.none();
        for (let i = 0; i < 100_000; i++) p.setitem();
      }),
    )),
  pthCase('nested-tuple-key-100k', 'pth-structure', refused(/nested more than \d+ levels deep/), () => {
    const p = new Pickle().proto(2).emptyDict().none();
    for (let i = 0; i < 100_000; i++) p.tupleN(1);
    return pickleOnly(p.int(1).setitem().stop());
  }),
  pthCase('nested-lists-50-ok', 'pth-structure', ACCEPTED, () =>
    pickleOnly(
      inDict((p) => {
        for (let i = 0; i < 50; i++) p.emptyList();
        for (let i = 1; i < 50; i++) p.append();
      }),
    )),
  pthCase('reference-cycle', 'pth-structure', refused(/reference cycle at 'x.0'/), () =>
    pickleOnly(inDict((p) => p.emptyList().put(0).get(0).append()))),
  pthCase('exponential-sharing', 'pth-structure', refused(/more than \d+ entries/), () =>
    pickleOnly(
      inDict((p) => {
        p.emptyList();
        for (let level = 0; level < 12; level++) {
          p.put(0).pop().emptyList().mark();
          for (let i = 0; i < 10; i++) p.get(0);
          p.appends();
        }
      }),
    )),
  pthCase('wrapped-state-dict', 'pth-structure', ACCEPTED, () => {
    const p = new Pickle().proto(2).emptyDict().mark().str('epoch').int(3).str('state_dict').emptyDict().mark();
    p.str('w').tensor({ key: '0', numel: 4, size: [4], stride: [1] });
    return torchZip(p.setitems().setitems().stop().toBytes(), { 0: [1, 2, 3, 4] });
  }),
];

/** Pickles that allocate much from little: every one must stop at a count, not at the memory limit. */
const BOMBS: FuzzCase[] = [
  pthCase('empty-list-200M-deflated', 'pickle-bomb', refused(/over the .*budget|more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x5d]), Buffer.from([0x5d]), 200_000_000, Buffer.from('.'))),
  pthCase('empty-dict-200M-deflated', 'pickle-bomb', refused(/over the .*budget|more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x7d]), Buffer.from([0x7d]), 200_000_000, Buffer.from('.'))),
  pthCase('empty-dict-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x7d]), Buffer.from([0x7d]), 20_000_000, Buffer.from('.'))),
  pthCase('empty-list-1M-stored', 'pickle-bomb', refused(/STOP with \d+ extra items|more than \d+ (objects|values)/), () =>
    pickleOnly(new Pickle().proto(2).raw(Buffer.alloc(1_000_000, 0x5d)).stop())),
  pthCase('appended-lists-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x7d, 0x58, 1, 0, 0, 0, 0x78, 0x5d]), Buffer.from([0x5d, 0x61]), 20_000_000, Buffer.from('s.'))),
  pthCase('mark-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values)|open MARK/), () =>
    deflatedPickle(Buffer.from([0x80, 2]), Buffer.from('('), 20_000_000, Buffer.from('}.'))),
  pthCase('dup-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x7d]), Buffer.from('2'), 20_000_000, Buffer.from('.'))),
  pthCase('binget-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values)/), () =>
    deflatedPickle(Buffer.from([0x80, 2, 0x7d, 0x71, 0]), Buffer.from([0x68, 0]), 20_000_000, Buffer.from('.'))),
  pthCase('memoize-20M-deflated', 'pickle-bomb', refused(/more than \d+ (objects|values|memo entries)/), () =>
    deflatedPickle(Buffer.from([0x80, 4, 0x7d]), Buffer.from([0x94]), 20_000_000, Buffer.from('.'))),
  pthCase('long-binput-sparse-200k', 'pickle-bomb', ACCEPTED, () => {
    const p = new Pickle().proto(2).emptyDict();
    for (let i = 0; i < 200_000; i++) p.put(256 + i * 4099);
    return pickleOnly(p.stop());
  }),
  pthCase('pickle-declared-300MB', 'pickle-bomb', refused(/over the .*limit|over the .*budget/), () =>
    torchZip(new Pickle().proto(2).emptyDict().stop().toBytes(), {}, { deflatePickle: true, pickleDeclaredSize: 300 * 2 ** 20 })),
  pthCase('pickle-declared-larger-than-inflated', 'pickle-bomb', refused(/inflated to \d+ bytes, expected \d+/), () =>
    torchZip(new Pickle().proto(2).emptyDict().stop().toBytes(), {}, { deflatePickle: true, pickleDeclaredSize: 1000 })),
  pthCase('deflated-storage-400MB', 'pickle-bomb', refused(/over the .*budget/), async () => {
    const numel = 100 * 2 ** 20;
    const deflated = await deflateRepeated(new Uint8Array(0), new Uint8Array(2 ** 20), 400, new Uint8Array(0));
    const pickle = new Pickle().stateDict({ w: { key: '0', numel, size: [numel], stride: [1] } }).toBytes();
    return buildZip({ 'archive/data.pkl': pickle, 'archive/data/0': { deflated }, 'archive/version': '3\n' });
  }),
  pthCase(
    'deflated-storage-40MB-raised',
    'pickle-bomb',
    ACCEPTED,
    async () => {
      const numel = 10 * 2 ** 20;
      const deflated = await deflateRepeated(new Uint8Array(0), new Uint8Array(2 ** 20), 40, new Uint8Array(0));
      const pickle = new Pickle().stateDict({ w: { key: '0', numel, size: [numel], stride: [1] } }).toBytes();
      return buildZip({ 'archive/data.pkl': pickle, 'archive/data/0': { deflated }, 'archive/version': '3\n' });
    },
    { maxBytes: 200 * 2 ** 20 },
  ),
  pthCase('deflated-storage-declared-small', 'pickle-bomb', refused(/cannot inflate|inflated to|over the/), async () => {
    // The directory says 16 bytes; the stream inflates to 100 MB: inflation must stop at 16.
    const deflated = await deflateRepeated(new Uint8Array(0), new Uint8Array(2 ** 20), 100, new Uint8Array(0));
    const pickle = new Pickle().stateDict({ w: { key: '0', numel: 4, size: [4], stride: [1] } }).toBytes();
    return buildZip({ 'archive/data.pkl': pickle, 'archive/data/0': { deflated: { ...deflated, size: 16, crc: 0 } }, 'archive/version': '3\n' });
  }),
];

/** Scalars, strings and integers of every width as non-tensor leaves: loaded, or refused by name. */
const VALUES: FuzzCase[] = [
  pthCase('long4-200KB', 'pickle-values', ACCEPTED, () => pickleOnly(inDict((p) => p.long(new Random(1).bytes(200_000))))),
  pthCase('long4-2MB', 'pickle-values', ACCEPTED, () => pickleOnly(inDict((p) => p.long(new Random(2).bytes(2_000_000))))),
  pthCase('long4-negative-length', 'pickle-values', refused(/truncated|negative|length/), () => pickleOnly(inDict((p) => p.long4Declared(-5, new Uint8Array(4))))),
  pthCase('long4-length-past-end', 'pickle-values', refused(/pickle truncated/), () => pickleOnly(inDict((p) => p.long4Declared(2 ** 31 - 1, new Uint8Array(4))))),
  pthCase('long1-big', 'pickle-values', ACCEPTED, () => pickleOnly(inDict((p) => p.long(new Random(3).bytes(255))))),
  pthCase('float-nan', 'pickle-values', ACCEPTED, () => pickleOnly(inDict((p) => p.float(Number.NaN)))),
  pthCase('unicode-declared-4G', 'pickle-values', refused(/pickle truncated/), () => pickleOnly(inDict((p) => p.raw([0x58, 0xff, 0xff, 0xff, 0xff], 'abc')))),
  pthCase('unicode8-declared-huge', 'pickle-values', refused(/exceeds the pickle size|truncated/), () =>
    pickleOnly(inDict((p) => p.raw([0x8d, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'abc')))),
  pthCase('bytes8-declared-huge', 'pickle-values', refused(/exceeds the pickle size|truncated/), () =>
    pickleOnly(inDict((p) => p.raw([0x8e, 0, 0, 0, 0, 0, 0, 0, 0x80], 'abc')))),
  pthCase('unicode-invalid-utf8', 'pickle-values', refused(/not valid UTF-8/), () => pickleOnly(inDict((p) => p.raw([0x8c, 2, 0xc3, 0x28])))),
  pthCase('binstring-negative', 'pickle-values', refused(/truncated|negative|length/), () => pickleOnly(inDict((p) => p.raw([0x54, 0xfe, 0xff, 0xff, 0xff])))),
  pthCase('strings-1MB', 'pickle-values', ACCEPTED, () => pickleOnly(inDict((p) => p.str('x'.repeat(1_000_000))))),
  pthCase('int-keys-and-tuple-keys', 'pickle-values', ACCEPTED, () => {
    const p = new Pickle().proto(2).emptyDict().mark().int(1).int(2).int(3).int(4).tupleN(2).str('v').none().bool(true).setitems();
    return pickleOnly(p.stop());
  }),
  ...['os system', 'builtins eval', 'builtins exec', '__builtin__ getattr', 'subprocess Popen', 'posix system', 'torch load', 'numpy.core.multiarray _reconstruct', 'collections defaultdict', 'torch.serialization _load'].map((g) => {
    const [module, name] = g.split(' ') as [string, string];
    return pthCase(`global-${module}.${name}`, 'pickle-values', refused(new RegExp(`forbidden global '${module.replace(/\./g, '\\.')}\\.${name}'`)), () =>
      pickleOnly(inDict((p) => p.global(module, name).mark().str('id').tuple().reduce())));
  }),
  pthCase('stack-global-forbidden', 'pickle-values', refused(/forbidden global 'os.system'/), () => pickleOnly(inDict((p) => p.str('os').str('system').raw([0x93])))),
  ...(
    [
      ['inst', 'i'],
      ['obj', 'o'],
      ['newobj', [0x81]],
      ['newobj-ex', [0x92]],
      ['ext1', [0x82, 1]],
      ['persid-text', 'P'],
      ['string-text', 'S'],
      ['int-text', 'I'],
      ['bytearray8', [0x96]],
      ['next-buffer', [0x97]],
    ] as const
  ).map(([id, op]) =>
    pthCase(`opcode-${id}`, 'pickle-values', refused(/unsupported pickle opcode 0x[0-9a-f]{2}/), () =>
      pickleOnly(new Pickle().proto(2).emptyDict().raw(typeof op === 'string' ? op : [...op]).stop())),
  ),
  pthCase('reduce-non-global', 'pickle-values', refused(/REDUCE on a/), () => pickleOnly(inDict((p) => p.int(1).emptyTuple().reduce()))),
  pthCase('reduce-args-not-tuple', 'pickle-values', refused(/REDUCE arguments for 'collections.OrderedDict' are a/), () =>
    pickleOnly(inDict((p) => p.global('collections', 'OrderedDict').int(3).reduce()))),
  pthCase('build-on-int', 'pickle-values', refused(/BUILD on a int/), () => pickleOnly(inDict((p) => p.int(1).emptyDict().build()))),
  pthCase('setitem-on-list', 'pickle-values', refused(/SETITEM\(S\) on a list/), () => pickleOnly(inDict((p) => p.emptyList().int(1).int(2).setitem()))),
  pthCase('append-on-dict', 'pickle-values', refused(/APPEND\(S\) on a dict, not a list/), () => pickleOnly(new Pickle().proto(2).emptyDict().int(1).append().stop())),
  pthCase('stack-underflow', 'pickle-values', refused(/pickle stack underflow/), () => pickleOnly(new Pickle().proto(2).pop().stop())),
  pthCase('stop-with-extra', 'pickle-values', refused(/STOP with 1 extra items/), () => pickleOnly(new Pickle().proto(2).int(1).emptyDict().stop())),
  pthCase('no-stop', 'pickle-values', refused(/pickle ended without STOP/), () => pickleOnly(new Pickle().proto(2).emptyDict())),
  pthCase('open-mark', 'pickle-values', refused(/STOP with an open MARK/), () => pickleOnly(new Pickle().proto(2).mark().emptyDict().stop())),
  pthCase('memo-undefined', 'pickle-values', refused(/memo entry 9 is not defined/), () => pickleOnly(inDict((p) => p.get(9)))),
  pthCase('protocol-9', 'pickle-values', refused(/unsupported pickle protocol 9/), () => pickleOnly(new Pickle().proto(9).emptyDict().stop())),
  pthCase('persid-not-storage', 'pickle-values', refused(/invalid storage reference/), () => pickleOnly(inDict((p) => p.str('weights').persid()))),
  pthCase('ordered-dict-bad-items', 'pickle-values', refused(/OrderedDict (items must be pairs|takes a list of pairs)/), () =>
    pickleOnly(inDict((p) => p.global('collections', 'OrderedDict').int(5).tupleN(1).reduce()))),
];

/** Byte-level damage to the zip container. */
function zipCase(id: string, expect: FuzzExpect, bytes: () => Uint8Array): FuzzCase {
  return pthCase(id, 'zip', expect, bytes);
}

const PLAIN = (): Buffer => readFileSync(join(FIXTURES, 'plain.pth'));

/** A crafted two-tensor checkpoint without ZIP64 records, so its plain end record is the one read. */
const CRAFTED = (): Buffer =>
  torchZip(new Pickle().stateDict({ a: { key: '0', numel: 4, size: [2, 2], stride: [2, 1] }, b: { key: '1', numel: 4, size: [4], stride: [1] } }).toBytes(), { 0: [1, 2, 3, 4], 1: [5, 6, 7, 8] });

function patchEocd(mutate: (eocd: Buffer) => void): Buffer {
  const bytes = CRAFTED();
  const at = bytes.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  mutate(bytes.subarray(at, at + 22));
  return bytes;
}

function patchCentral(mutate: (central: Buffer) => void): Buffer {
  const bytes = CRAFTED();
  const at = bytes.indexOf(Buffer.from([0x50, 0x4b, 0x01, 0x02]));
  mutate(bytes.subarray(at, at + 46));
  return bytes;
}

const ZIP: FuzzCase[] = [
  zipCase('empty-file', refused(/neither a torch.save zip archive nor a legacy pickle|only 0 bytes/), () => new Uint8Array(0)),
  zipCase('one-byte', refused(/not a PyTorch checkpoint/), () => new Uint8Array([0x50])),
  zipCase('pk-only', refused(/not a zip archive/), () => Buffer.from('PK')),
  zipCase('random-1KB', refused(/not a PyTorch checkpoint/), () => new Random(3).bytes(1024).fill(0x41, 0, 2)),
  zipCase('legacy-pickle', refused(/unsupported legacy \(pre-1.6, non-zip\)/), () => readFileSync(join(FIXTURES, 'legacy.pth'))),
  zipCase('no-data-pkl', refused(/has no <archive>\/data.pkl/), () => buildZip({ 'archive/version': '3\n' })),
  zipCase('big-endian', refused(/unsupported byte order 'big'/), () =>
    buildZip({ 'archive/data.pkl': new Pickle().proto(2).emptyDict().stop().toBytes(), 'archive/byteorder': 'big' })),
  zipCase('duplicate-entries', refused(/duplicate zip entry 'archive\/data.pkl'/), () => {
    const pkl = new Pickle().proto(2).emptyDict().stop().toBytes();
    return buildZip([['archive/data.pkl', pkl], ['archive/data.pkl', pkl]]);
  }),
  zipCase('eocd-entry-count-65535', refused(/central directory entry \d+ is truncated or corrupt/), () => patchEocd((e) => e.writeUInt16LE(65535, 10))),
  zipCase('eocd-directory-offset-past-end', refused(/central directory .* is out of range/), () => patchEocd((e) => e.writeUInt32LE(0xfffffff0, 16))),
  zipCase('eocd-directory-size-huge', refused(/central directory .* is out of range/), () => patchEocd((e) => e.writeUInt32LE(0xfffffff0, 12))),
  zipCase('eocd-multi-disk', refused(/multi-disk zip archives are not supported/), () => patchEocd((e) => e.writeUInt16LE(1, 4))),
  zipCase('central-local-offset-bogus', refused(/lies outside the archive data|no local file header|out of range/), () => patchCentral((c) => c.writeUInt32LE(0x7fffffff, 42))),
  zipCase('central-compressed-size-huge', refused(/lies outside the archive data|runs past the end/), () => patchCentral((c) => c.writeUInt32LE(0x7fffffff, 20))),
  zipCase('central-method-bzip2', refused(/unsupported zip compression method 12/), () => patchCentral((c) => c.writeUInt16LE(12, 10))),
  zipCase('central-encrypted', refused(/encrypted zip entries are not supported/), () => patchCentral((c) => c.writeUInt16LE(1, 8))),
  zipCase('central-name-length-huge', refused(/central directory entry \d+ is truncated/), () => patchCentral((c) => c.writeUInt16LE(65535, 28))),
  zipCase('crc-mismatch', refused(/CRC-32 mismatch/), () => patchCentral((c) => c.writeUInt32LE(0x12345678, 16))),
];

/** torch-made files: each loads, or is refused by name (the two evil ones). */
const FIXTURE_CASES: FuzzCase[] = [
  ...['plain', 'plain_proto4', 'plain_zip64', 'plain_deflated', 'wrapped', 'deep', 'rounding'].map((name): FuzzCase => ({
    id: `pth-mutation/fixture-${name}`,
    cls: 'pth-mutation',
    expect: ACCEPTED,
    make(dir) {
      const path = join(dir, `${name}.pth`);
      copyFileSync(join(FIXTURES, `${name}.pth`), path);
      return { kind: 'lib', target: 'pth', path };
    },
  })),
  ...['evil_os_system', 'evil_eval', 'evil_eval_proto4'].map((name): FuzzCase => ({
    id: `pth-mutation/fixture-${name}`,
    cls: 'pth-mutation',
    expect: refused(/forbidden global '(posix|os|nt|__builtin__|builtins)\.(system|eval)'/),
    make(dir) {
      const path = join(dir, `${name}.pth`);
      copyFileSync(join(FIXTURES, `${name}.pth`), path);
      return { kind: 'lib', target: 'pth', path };
    },
  })),
];

/** Random damage to a real checkpoint: truncations and byte flips. Loading or a clean refusal are both fine. */
function mutations(): FuzzCase[] {
  const random = new Random(1147);
  const out = damages(1147, PLAIN().length, 8, 12).map((d) => pthCase(d.id, 'pth-mutation', { refusedOrAccepted: true }, () => d.apply(PLAIN())));
  // Damage inside data.pkl itself, with the CRC fixed up so the unpickler sees it.
  for (let i = 0; i < 12; i++) {
    const seed = random.int(0, 2 ** 30);
    out.push(
      pthCase(`pickle-flipped-${seed}`, 'pth-mutation', { refusedOrAccepted: true }, () => {
        const r = new Random(seed);
        const pickle = Buffer.from(new Pickle().stateDict({ a: { key: '0', numel: 4, size: [2, 2], stride: [2, 1] }, b: { key: '1', numel: 4, size: [4], stride: [1] } }).toBytes());
        for (let k = r.int(1, 4); k > 0; k--) pickle[r.int(0, pickle.length)] = r.int(0, 256);
        return torchZip(pickle, { 0: [1, 2, 3, 4], 1: [5, 6, 7, 8] });
      }),
    );
  }
  return out;
}

export function pthCases(): FuzzCase[] {
  return [...STRUCTURE, ...BOMBS, ...VALUES, ...ZIP, ...FIXTURE_CASES, ...mutations()];
}

