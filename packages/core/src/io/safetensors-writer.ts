import { writeFileAtomic } from './atomic-write.js';
import { encodeElements } from './dtype-codec.js';
import { planSafetensors, type SafetensorsPlan, type WritableTensors } from './safetensors-layout.js';

/** Elements converted per step, so conversions need a few MB of scratch, not a tensor's worth. */
const CHUNK_ELEMENTS = 1 << 20;

function emit(plan: SafetensorsPlan, write: (bytes: Uint8Array) => void, where: string): void {
  write(plan.head);
  for (const { name, tensor, numel } of plan.tensors) {
    for (let start = 0; start < numel; start += CHUNK_ELEMENTS) {
      write(encodeElements(tensor, start, Math.min(CHUNK_ELEMENTS, numel - start), `${where}:${name}`));
    }
  }
}

/**
 * Writes a safetensors file atomically (temp file, fsync, rename), streaming tensor by tensor.
 * Layout matches the reference writer: header padded to 8 bytes, tensors ordered by dtype then
 * name. Floats are converted to F16/BF16 with round-to-nearest-even; integers are range-checked.
 */
export function writeSafetensors(path: string, tensors: WritableTensors, metadata?: Record<string, string>): void {
  const plan = planSafetensors(tensors, metadata, path);
  writeFileAtomic(path, (write) => emit(plan, write, path));
}

/** The same file as bytes in memory. */
export function serializeSafetensors(tensors: WritableTensors, metadata?: Record<string, string>): Buffer {
  const plan = planSafetensors(tensors, metadata, '<buffer>');
  const out = Buffer.alloc(plan.totalLength);
  let offset = 0;
  emit(
    plan,
    (bytes) => {
      out.set(bytes, offset);
      offset += bytes.byteLength;
    },
    '<buffer>',
  );
  return out;
}
