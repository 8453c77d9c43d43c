/** The values the restricted unpickler can produce: plain data plus torch tensor references. */

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/**
 * dict and collections.OrderedDict (insertion order is kept either way). Its maps are made on
 * first use: a pickle can hold millions of empty dicts, and two empty Maps cost ~400 bytes.
 */
export class PickleDict {
  private entryMap: Map<PickleValue, PickleValue> | undefined;
  private attributeMap: Map<string, PickleValue> | undefined;

  get entries(): Map<PickleValue, PickleValue> {
    return (this.entryMap ??= new Map());
  }

  /** Instance attributes set by BUILD, e.g. a state dict's `_metadata`. */
  get attributes(): Map<string, PickleValue> {
    return (this.attributeMap ??= new Map());
  }

  get size(): number {
    return this.entryMap?.size ?? 0;
  }
}

/** A resolved, allowed global such as `torch._utils._rebuild_tensor_v2`. */
export class PickleGlobal {
  constructor(
    readonly module: string,
    readonly name: string,
  ) {}

  get qualifiedName(): string {
    return `${this.module}.${this.name}`;
  }
}

/** torch dtypes that checkpoints store, named like torch (`torch.float16` -> 'float16'). */
export type TorchDType =
  'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

/** A storage referenced by a persistent id: its bytes live in zip entry `<archive>/data/<key>`. */
export class TorchStorage {
  constructor(
    readonly dtype: TorchDType,
    readonly key: string,
    readonly location: string,
    /** Size in elements. */
    readonly numel: number,
  ) {}
}

/** A tensor as a strided view of a storage; no data is read until asked for. */
export class TorchTensor {
  constructor(
    readonly storage: TorchStorage,
    readonly storageOffset: number,
    readonly shape: number[],
    readonly stride: number[],
  ) {}
}

export type PickleValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | Uint8Array
  | PickleValue[]
  | PickleTuple
  | PickleDict
  | PickleGlobal
  | TorchStorage
  | TorchTensor;

/** What Python would call the value's type, for messages ("the root is a list, not a dict"). */
export function pythonKind(value: PickleValue): string {
  if (value === null) return 'None';
  if (typeof value === 'boolean') return 'bool';
  if (typeof value === 'number') return Number.isInteger(value) ? 'int' : 'float';
  if (typeof value === 'bigint') return 'int';
  if (typeof value === 'string') return 'str';
  if (value instanceof Uint8Array) return 'bytes';
  if (Array.isArray(value)) return 'list';
  if (value instanceof PickleTuple) return 'tuple';
  if (value instanceof PickleDict) return 'dict';
  if (value instanceof TorchTensor) return 'tensor';
  if (value instanceof TorchStorage) return 'storage';
  return `global ${value.qualifiedName}`;
}
