import { MigeInputError } from '../errors.js';
import { ITEM_SIZE, isSafetensorsDType, SAFETENSORS_DTYPES } from './dtype-codec.js';
import type { SafetensorsDType, WritableTensor } from './tensor-types.js';

export type WritableTensors = Record<string, WritableTensor> | Map<string, WritableTensor>;

export interface PlannedTensor {
  name: string;
  tensor: WritableTensor;
  numel: number;
}

/** Everything needed to emit a file: the padded header and the tensors in data order. */
export interface SafetensorsPlan {
  /** 8-byte little-endian header length followed by the header, padded with spaces. */
  head: Uint8Array;
  tensors: PlannedTensor[];
  totalLength: number;
}

/**
 * The reference writer orders tensors by descending dtype rank (its enum order, which keeps
 * every tensor aligned to its item size) and then by name; we match it so files are identical.
 */
const DTYPE_RANK: Readonly<Record<SafetensorsDType, number>> = { I64: 5, F32: 4, I32: 3, BF16: 2, F16: 1, U8: 0 };

const utf8 = new TextEncoder();

function compareNames(a: string, b: string): number {
  // Rust compares UTF-8 bytes; JS string order (UTF-16 units) differs above the BMP.
  return Buffer.compare(utf8.encode(a), utf8.encode(b));
}

function checkTensor(name: string, tensor: WritableTensor, where: string): number {
  const bad = (message: string): never => {
    throw new MigeInputError(`tensor '${name}': ${message}`, where);
  };
  if (name === '__metadata__') bad('the name __metadata__ is reserved for the metadata map');
  if (!isSafetensorsDType(tensor.dtype))
    bad(`unsupported dtype '${String(tensor.dtype)}' (supported: ${SAFETENSORS_DTYPES.join(', ')})`);
  const { shape } = tensor;
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) {
    bad(`shape must be an array of non-negative integers, got ${JSON.stringify(shape)}`);
  }
  const numel = shape.reduce((acc, d) => acc * d, 1);
  if (!Number.isSafeInteger(numel * ITEM_SIZE[tensor.dtype])) bad(`shape [${shape.join(', ')}] is too large`);
  if (tensor.data.length !== numel)
    bad(`data has ${tensor.data.length} elements but shape [${shape.join(', ')}] needs ${numel}`);
  return numel;
}

function entriesOf(tensors: WritableTensors): [string, WritableTensor][] {
  return tensors instanceof Map ? [...tensors.entries()] : Object.entries(tensors);
}

export function planSafetensors(
  tensors: WritableTensors,
  metadata: Record<string, string> | undefined,
  where: string,
): SafetensorsPlan {
  const planned: PlannedTensor[] = entriesOf(tensors).map(([name, tensor]) => ({
    name,
    tensor,
    numel: checkTensor(name, tensor, where),
  }));
  planned.sort((a, b) => DTYPE_RANK[b.tensor.dtype] - DTYPE_RANK[a.tensor.dtype] || compareNames(a.name, b.name));

  const parts: string[] = [];
  if (metadata !== undefined) {
    for (const [k, v] of Object.entries(metadata)) {
      if (typeof v !== 'string') throw new MigeInputError(`metadata value for '${k}' must be a string`, where);
    }
    parts.push(`"__metadata__":${JSON.stringify(metadata)}`);
  }
  let offset = 0;
  for (const { name, tensor, numel } of planned) {
    const end = offset + numel * ITEM_SIZE[tensor.dtype];
    parts.push(
      `${JSON.stringify(name)}:{"dtype":"${tensor.dtype}","shape":[${tensor.shape.join(',')}],"data_offsets":[${offset},${end}]}`,
    );
    offset = end;
  }
  const json = utf8.encode(`{${parts.join(',')}}`);
  const headerLength = Math.ceil(json.length / 8) * 8; // pad to 8 like the reference: data stays aligned
  const head = new Uint8Array(8 + headerLength).fill(0x20, 8 + json.length);
  new DataView(head.buffer).setBigUint64(0, BigInt(headerLength), true);
  head.set(json, 8);
  return { head, tensors: planned, totalLength: head.length + offset };
}
