import { constants } from 'node:buffer';
import { MigeInputError } from '../errors.js';
import { FileByteSource } from './byte-source.js';
import { byteBudget, checkLimit, type LoadLimits } from './load-limits.js';
import { unpickle } from './pickle.js';
import { PickleDict, pythonKind, type PickleValue, type TorchDType, type TorchTensor } from './pickle-values.js';
import { selectStateDict, toTree, type PthTree } from './pth-state-dict.js';
import { gatherStrided, isContiguous } from './strided-copy.js';
import type { TensorData } from './tensor-types.js';
import { decodeTorchBytes, TORCH_ITEM_SIZE } from './torch-dtypes.js';
import { torchPickleEnvironment } from './torch-pickle.js';
import { ZipReader } from './zip.js';

export { PthTensorLeaf, WRAPPER_KEYS, type PthTree } from './pth-state-dict.js';
export type { TorchDType } from './pickle-values.js';

/** Which weights to read, and the load's resource limits (see LoadLimits). */
export interface PthOpenOptions extends LoadLimits {
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

/**
 * The most elements a view may have beyond what its storage holds (16 MiB as float32): enough
 * for expanded buffers and masks, while no such view can turn a small file into gigabytes.
 */
export const MAX_REPEATING_VIEW_ELEMENTS = 4 * 1024 * 1024;

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

/**
 * Checks a view before anything is read: its element count fits one buffer, and a view with
 * more elements than its storage holds (zero or overlapping strides: `x.expand(2, 3)`) stays
 * small, so a 600-byte file cannot describe gigabytes. `maxElements`, when given, replaces that
 * rule with a plain cap on every tensor. Then the view must lie inside its storage.
 */
function viewExtent(t: TorchTensor, name: string, where: string, maxElements: number | undefined): { numel: number; last: number } {
  const numel = t.shape.reduce((a, b) => a * b, 1);
  // Both the raw bytes and the float32/int32 result must fit in one buffer.
  const bytesNeeded = numel * Math.max(4, TORCH_ITEM_SIZE[t.storage.dtype]);
  const view = `tensor '${name}' (shape [${t.shape.join(', ')}], stride [${t.stride.join(', ')}], offset ${t.storageOffset})`;
  if (!Number.isSafeInteger(numel) || bytesNeeded > constants.MAX_LENGTH) {
    throw new MigeInputError(`tensor '${name}' has shape [${t.shape.join(', ')}]: too many elements to load`, where);
  }
  if (maxElements !== undefined && numel > maxElements) {
    throw new MigeInputError(`${view} has ${numel} elements, over the limit maxElements=${maxElements}`, where);
  }
  if (maxElements === undefined && numel > t.storage.numel && numel > MAX_REPEATING_VIEW_ELEMENTS) {
    throw new MigeInputError(
      `${view} has ${numel} elements but its storage only ${t.storage.numel}: a view that repeats its storage (zero or overlapping strides) may have at most ${MAX_REPEATING_VIEW_ELEMENTS} elements unless maxElements allows more`,
      where,
    );
  }
  // Index of the last element the view touches (torch strides are never negative).
  const last =
    numel === 0
      ? t.storageOffset
      : t.shape.reduce((acc, size, d) => acc + (size - 1) * (t.stride[d] as number), t.storageOffset);
  if (numel > 0 && last >= t.storage.numel) {
    throw new MigeInputError(`${view} reaches past its storage of ${t.storage.numel} elements`, where);
  }
  return { numel, last };
}

/** Bytes a tensor takes once decoded (float32 / int32). */
function decodedBytes(t: TorchTensor): number {
  return t.shape.reduce((a, b) => a * b, 1) * 4;
}

/**
 * Lazy reader for torch.save zip checkpoints (model.pth, eva_vit_g.pth, ...). Opening reads the
 * central directory and data.pkl only, through a restricted unpickler that refuses every global
 * but tensor rebuilding and plain containers; `read` loads one tensor's bytes from its storage.
 *
 * Bounded by LoadLimits: the pickle makes at most `maxObjects` objects, deflated entries inflate
 * to at most `maxBytes` in all, no view has more elements than its storage (`maxElements`), and
 * no read returns more than `maxBytes`; the defaults scale with the file's size.
 */
export class PthReader {
  private readonly tensors: Map<string, TorchTensor>;
  private readonly maxElements: number | undefined;
  private readonly maxReadBytes: number;

  private constructor(
    private readonly zip: ZipReader,
    private readonly prefix: string,
    private readonly root: PickleValue,
    options: PthOpenOptions,
  ) {
    if (!(root instanceof PickleDict)) {
      throw new MigeInputError(
        `the checkpoint's root is a ${pythonKind(root)}, not a dict: expected torch.save of a state dict (or of a dict holding one)`,
        zip.where,
      );
    }
    this.maxElements = checkLimit(options.maxElements, 'maxElements', zip.where);
    this.maxReadBytes = byteBudget(options, zip.size, zip.where).limit;
    this.tensors = selectStateDict(root, options.key, zip.where);
    for (const [name, tensor] of this.tensors) viewExtent(tensor, name, zip.where, this.maxElements);
  }

  static open(path: string, options: PthOpenOptions = {}): PthReader {
    checkSignature(path);
    const zip = ZipReader.open(path, options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {});
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
      const env = {
        ...torchPickleEnvironment((key) => zip.entry(`${prefix}data/${key}`)?.uncompressedSize, path),
        ...(options.maxObjects !== undefined ? { maxObjects: options.maxObjects } : {}),
      };
      const root = unpickle(zip.read(pickleName), env, `${path}:${pickleName}`);
      return new PthReader(zip, prefix, root, options);
    } catch (error) {
      zip.close();
      throw error;
    }
  }

  /** The checkpoint file's size in bytes. */
  get byteLength(): number {
    return this.zip.size;
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

  /** Bytes `read(name)` will return (4 an element: float32 or int32). */
  decodedBytes(name: string): number {
    return decodedBytes(this.require(name));
  }

  /** Reads one tensor (float32 for float dtypes, int32 for integers and bool), materialising views. */
  read(name: string): TensorData {
    const t = this.require(name);
    const where = `${this.zip.where}:${name}`;
    const { numel, last } = viewExtent(t, name, this.zip.where, this.maxElements);
    if (numel * 4 > this.maxReadBytes) {
      throw new MigeInputError(`tensor '${name}' decodes to ${numel * 4} bytes, over the ${this.maxReadBytes}-byte limit of one read (maxBytes)`, this.zip.where);
    }
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

/** Reads a checkpoint's state dict, one tensor at a time, within the load's byte budget (maxBytes). */
export function readPthStateDict(path: string, options: PthOpenOptions = {}): Map<string, TensorData> {
  const reader = PthReader.open(path, options);
  try {
    const budget = byteBudget(options, reader.byteLength, path);
    const out = new Map<string, TensorData>();
    for (const name of reader.keys()) {
      budget.charge(reader.decodedBytes(name), `tensor '${name}'`);
      out.set(name, reader.read(name));
    }
    return out;
  } finally {
    reader.close();
  }
}
