// Shared by the dit bench scripts: backend choice, memory readings and the child-process protocol.
import { initBackend, tf } from '@mige/core';

export const BACKEND = process.env.MIGE_BACKEND ?? 'wasm';

export async function startBackend() {
  await initBackend({ backend: BACKEND, log: null });
}

/** Peak resident set size of this process so far (the kernel's high-water mark), in bytes. */
export const peakRssBytes = () => process.resourceUsage().maxRSS * 1024;

/** Size of the wasm heap (it only grows, so this is also its peak); null on other backends. */
export function wasmHeapBytes() {
  const wasm = tf.getBackend() === 'wasm' ? tf.backend().wasm : undefined;
  return wasm ? wasm.HEAPU8.buffer.byteLength : null;
}

export const memory = () => ({ peakRssBytes: peakRssBytes(), wasmHeapBytes: wasmHeapBytes(), tensorBytes: tf.memory().numBytes });

/** A child reports its result as one line the parent picks out of stdout. */
export function emitResult(result) {
  process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
}

export const GiB = 2 ** 30;
export const gib = (bytes) => (bytes === null ? 'n/a' : `${(bytes / GiB).toFixed(2)} GiB`);
