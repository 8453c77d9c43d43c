/** The values the restricted unpickler can produce: plain data plus torch tensor references. */

export class PickleTuple {
  constructor(readonly items: PickleValue[]) {}
}

/** dict and collections.OrderedDict (insertion order is kept either way). */
export class PickleDict {
  readonly entries = new Map<PickleValue, PickleValue>();
  /** Instance attributes set by BUILD, e.g. a state dict's `_metadata`. */
  readonly attributes = new Map<string, PickleValue>();
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
