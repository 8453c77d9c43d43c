import { constants } from 'node:buffer';
import { MigeInputError } from '../errors.js';
import { FileByteSource } from './byte-source.js';
import { unpickle } from './pickle.js';
import type { PickleValue, TorchDType, TorchTensor } from './pickle-values.js';
import { selectStateDict, toTree, type PthTree } from './pth-state-dict.js';
import { gatherStrided, isContiguous } from './strided-copy.js';
import type { TensorData } from './tensor-types.js';
import { decodeTorchBytes, TORCH_ITEM_SIZE } from './torch-dtypes.js';
import { torchPickleEnvironment } from './torch-pickle.js';
import { ZipReader } from './zip.js';

export { PthTensorLeaf, WRAPPER_KEYS, type PthTree } from './pth-state-dict.js';
export type { TorchDType } from './pickle-values.js';

export interface PthOpenOptions {
  /**
   * Which sub-dict holds the weights: a top-level key or a dotted path ('model.encoder').
   * Without it, {'state_dict' | 'model' | 'module' | 'ema': {...}} wrappers are unwrapped.
   */
  key?: string;
}

/** Where a checkpoint tensor lives: a strided view of one storage. */
export interface PthTensorInfo {
  name: string;
  dtype: TorchDType;
  shape: number[];
  stride: number[];
  /** In elements. */
  storageOffset: number;
  /** Zip entry `<archive>/data/<storageKey>`; tensors sharing a key share memory (tied weights). */
  storageKey: string;
  /** Storage size in elements. */
  storageNumel: number;
}

/** data.pkl holds only structure (~100 bytes per tensor); more than this is not a checkpoint. */
const MAX_PICKLE_BYTES = 256 * 1024 * 1024;
const LEGACY_HINT =
  'unsupported legacy (pre-1.6, non-zip) torch.save format; re-save it with torch>=1.6 (torch.save without _use_new_zipfile_serialization=False)';

/** Rejects files that are not torch zip checkpoints with a message saying what they are instead. */
function checkSignature(path: string): void {
  const source = FileByteSource.open(path);
  try {
    const head = source.read(0, Math.min(source.size, 512));
    if (head[0] === 0x50 && head[1] === 0x4b) return; // "PK": zip
    const isPickle = head[0] === 0x80 && (head[1] ?? 0) <= 5;
    const isTar = head.length >= 262 && new TextDecoder().decode(head.subarray(257, 262)) === 'ustar';
    if (isPickle || isTar) throw new MigeInputError(LEGACY_HINT, path);
    throw new MigeInputError('not a PyTorch checkpoint: neither a torch.save zip archive nor a legacy pickle', path);
  } finally {
    source.close();
  }
}

function viewExtent(t: TorchTensor, name: string, where: string): { numel: number; last: number } {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  // Both the raw bytes and the float32/int32 result must fit in one buffer.
  const bytesNeeded = numel * Math.max(4, TORCH_ITEM_SIZE[t.storage.dtype]);
  if (!Number.isSafeInteger(numel) || bytesNeeded > constants.MAX_LENGTH) {
    throw new MigeInputError(`tensor '${name}' has shape [${t.shape.join(', ')}]: too many elements to load`, where);
  }
  // Index of the last element the view touches (torch strides are never negative).
  const last =
    numel === 0
      ? t.storageOffset
      : t.shape.reduce((acc, size, d) => acc + (size - 1) * (t.stride[d] as number), t.storageOffset);
  if (numel > 0 && last >= t.storage.numel) {
    throw new MigeInputError(
      `tensor '${name}' (shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}], offset ${t.storageOffset}) reaches past its storage of ${t.storage.numel} elements`,
      where,
    );
  }
  return { numel, last };
}

/**
 * Lazy reader for torch.save zip checkpoints (model.pth, eva_vit_g.pth, ...). Opening reads the
 * central directory and data.pkl only, through a restricted unpickler that refuses every global
 * but tensor rebuilding and plain containers; `read` loads one tensor's bytes from its storage.
 */
export class PthReader {
  private readonly tensors: Map<string, TorchTensor>;

  private constructor(
    private readonly zip: ZipReader,
    private readonly prefix: string,
    private readonly root: PickleValue,
    options: PthOpenOptions,
  ) {
    this.tensors = selectStateDict(root, options.key, zip.where);
    for (const [name, tensor] of this.tensors) viewExtent(tensor, name, zip.where);
  }

  static open(path: string, options: PthOpenOptions = {}): PthReader {
    checkSignature(path);
    const zip = ZipReader.open(path);
    try {
      const pickleName =
        zip.names().find((n) => /^[^/]+\/data\.pkl$/.test(n)) ?? zip.names().find((n) => n === 'data.pkl');
      if (!pickleName)
        throw new MigeInputError('zip archive has no <archive>/data.pkl: not a torch.save checkpoint', path);
      const prefix = pickleName.slice(0, -'data.pkl'.length);
      const byteorder = zip.entry(`${prefix}byteorder`) && new TextDecoder().decode(zip.read(`${prefix}byteorder`));
      if (byteorder && byteorder !== 'little') throw new MigeInputError(`unsupported byte order '${byteorder}'`, path);
      const size = zip.entry(pickleName)?.uncompressedSize ?? 0;
      if (size > MAX_PICKLE_BYTES)
        throw new MigeInputError(`${pickleName} is ${size} bytes, over the ${MAX_PICKLE_BYTES}-byte limit`, path);
      const env = torchPickleEnvironment((key) => zip.entry(`${prefix}data/${key}`)?.uncompressedSize, path);
      const root = unpickle(zip.read(pickleName), env, `${path}:${pickleName}`);
      return new PthReader(zip, prefix, root, options);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  /** State-dict names, in checkpoint order. */
  keys(): string[] {
    return [...this.tensors.keys()];
  }

  has(name: string): boolean {
    return this.tensors.has(name);
  }

  info(name: string): PthTensorInfo {
    const t = this.require(name);
    return {
      name,
      dtype: t.storage.dtype,
      shape: [...t.shape],
      stride: [...t.stride],
      storageOffset: t.storageOffset,
      storageKey: t.storage.key,
      storageNumel: t.storage.numel,
    };
  }

  /** Reads one tensor (float32 for float dtypes, int32 for integers and bool), materialising views. */
  read(name: string): TensorData {
    const t = this.require(name);
    const where = `${this.zip.where}:${name}`;
    const { numel, last } = viewExtent(t, name, this.zip.where);
    const itemSize = TORCH_ITEM_SIZE[t.storage.dtype];
    const entry = `${this.prefix}data/${t.storage.key}`;
    const shape = [...t.shape];
    if (numel === 0) return decodeTorchBytes(t.storage.dtype, shape, new Uint8Array(0), where);
    if (isContiguous(t.shape, t.stride)) {
      return decodeTorchBytes(
        t.storage.dtype,
        shape,
        this.zip.readRange(entry, t.storageOffset * itemSize, numel * itemSize),
        where,
      );
    }
    // Read just the span the view covers, then pick its elements out in row-major order.
    const span = this.zip.readRange(entry, t.storageOffset * itemSize, (last - t.storageOffset + 1) * itemSize);
    return decodeTorchBytes(t.storage.dtype, shape, gatherStrided(span, itemSize, t.shape, t.stride, 0), where);
  }

  /** The whole checkpoint as plain data (epochs, configs, ...), tensors as PthTensorLeaf. */
  tree(): PthTree {
    return toTree(this.root, this.zip.where);
  }

  close(): void {
    this.zip.close();
  }

  private require(name: string): TorchTensor {
    const t = this.tensors.get(name);
    if (!t) throw new MigeInputError(`no tensor named '${name}' in the state dict`, this.zip.where);
    return t;
  }
}

/** Reads a checkpoint's state dict, one tensor at a time. */
export function readPthStateDict(path: string, options: PthOpenOptions = {}): Map<string, TensorData> {
  const reader = PthReader.open(path, options);
  try {
    return new Map(reader.keys().map((name) => [name, reader.read(name)]));
  } finally {
    reader.close();
  }
}
