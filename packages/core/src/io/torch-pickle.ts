import { MigeInputError } from '../errors.js';
import type { PickleEnvironment } from './pickle.js';
import { PickleDict, PickleGlobal, PickleTuple, TorchStorage, TorchTensor, type PickleValue } from './pickle-values.js';
import { STORAGE_DTYPES, TORCH_ITEM_SIZE } from './torch-dtypes.js';

function fail(message: string): never {
  // The unpickler adds the file and byte position.
  throw new Error(message);
}

function int(value: PickleValue | undefined, what: string): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0)
    fail(`${what} must be a non-negative integer`);
  return value;
}

function intTuple(value: PickleValue | undefined, what: string): number[] {
  if (!(value instanceof PickleTuple)) fail(`${what} must be a tuple`);
  return value.items.map((v, i) => int(v, `${what}[${i}]`));
}

/** torch._utils._rebuild_tensor_v2(storage, offset, size, stride, requires_grad, hooks[, metadata]). */
function rebuildTensor(args: PickleValue[]): TorchTensor {
  const [storage, offset, size, stride] = args;
  if (!(storage instanceof TorchStorage)) fail('the first argument must be a storage');
  const shape = intTuple(size, 'size');
  const strides = intTuple(stride, 'stride');
  if (shape.length !== strides.length) fail(`size has ${shape.length} dims but stride has ${strides.length}`);
  return new TorchTensor(storage, int(offset, 'storage offset'), shape, strides);
}

/** torch._utils._rebuild_parameter(data, requires_grad, hooks[, state]): the tensor itself. */
function rebuildParameter(args: PickleValue[]): TorchTensor {
  const [data] = args;
  if (!(data instanceof TorchTensor)) fail('a parameter must wrap a tensor');
  return data;
}

function orderedDict(args: PickleValue[]): PickleDict {
  const dict = new PickleDict();
  const [items] = args;
  if (items === undefined) return dict;
  if (!Array.isArray(items)) fail('OrderedDict takes a list of pairs');
  for (const pair of items) {
    if (!(pair instanceof PickleTuple) || pair.items.length !== 2) fail('OrderedDict items must be pairs');
    dict.entries.set(pair.items[0] as PickleValue, pair.items[1] as PickleValue);
  }
  return dict;
}

/**
 * The globals a torch.save checkpoint of tensors and plain containers needs, and nothing else.
 * Storage classes are allowed only as markers inside persistent ids.
 */
const TORCH_GLOBALS: PickleEnvironment['globals'] = new Map<string, { call?: (args: PickleValue[]) => PickleValue }>([
  ['collections.OrderedDict', { call: orderedDict }],
  ['torch._utils._rebuild_tensor_v2', { call: rebuildTensor }],
  ['torch._utils._rebuild_tensor', { call: rebuildTensor }],
  ['torch._utils._rebuild_parameter', { call: rebuildParameter }],
  ['torch._utils._rebuild_parameter_with_state', { call: rebuildParameter }],
  ['torch.Size', { call: (args) => new PickleTuple(intTuple(args[0] ?? new PickleTuple([]), 'torch.Size')) }],
  ...[...STORAGE_DTYPES.keys()].map((name): [string, object] => [`torch.${name}`, {}]),
]);

/**
 * Environment for a torch zip checkpoint. Persistent ids `('storage', StorageType, key,
 * location, numel)` become TorchStorage references (one per key, so tied tensors share one);
 * `storageSize(key)` gives the byte size of `<archive>/data/<key>`, or undefined if missing.
 */
export function torchPickleEnvironment(
  storageSize: (key: string) => number | undefined,
  where: string,
): PickleEnvironment {
  const storages = new Map<string, TorchStorage>();
  return {
    globals: TORCH_GLOBALS,
    persistentLoad(pid) {
      const bad = (message: string): never => {
        throw new MigeInputError(`invalid storage reference: ${message}`, where);
      };
      if (!(pid instanceof PickleTuple) || pid.items[0] !== 'storage' || pid.items.length !== 5) {
        return bad("expected ('storage', type, key, location, numel)");
      }
      const [, type, key, location, numel] = pid.items;
      const dtype = type instanceof PickleGlobal && type.module === 'torch' ? STORAGE_DTYPES.get(type.name) : undefined;
      if (!dtype) return bad('unknown storage type');
      if (typeof key !== 'string' || typeof location !== 'string') return bad('key and location must be strings');
      if (typeof numel !== 'number' || !Number.isSafeInteger(numel) || numel < 0)
        return bad(`storage '${key}' has an invalid size`);
      const known = storages.get(key);
      if (known) {
        if (known.dtype !== dtype || known.numel !== numel)
          bad(`storage '${key}' is referenced with two different types or sizes`);
        return known;
      }
      const size = storageSize(key);
      if (size === undefined) return bad(`storage '${key}' has no data entry in the archive`);
      if (size < numel * TORCH_ITEM_SIZE[dtype])
        bad(`storage '${key}' needs ${numel * TORCH_ITEM_SIZE[dtype]} bytes but its entry has ${size}`);
      const storage = new TorchStorage(dtype, key, location, numel);
      storages.set(key, storage);
      return storage;
    },
  };
}
