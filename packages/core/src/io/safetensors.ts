/**
 * The safetensors format: lazy reader, atomic streaming writer, and their types.
 *
 * Reading validates the header as strictly as the reference (Rust) implementation, before any
 * tensor data is touched: the header length is bounded (100 MB by default) before it is
 * allocated; the header must be UTF-8 JSON with an object at the top, no duplicate keys (JSON.parse
 * would silently keep the last one) and a string->string `__metadata__`; every entry needs a
 * supported dtype, a shape of non-negative integers whose byte size (computed exactly, without
 * overflow) equals its data_offsets range, and the ranges must tile the data section exactly: no
 * overlaps, no holes, no trailing bytes.
 */
export { SafetensorsReader, parseSafetensors, readSafetensors, type ParsedSafetensors } from './safetensors-reader.js';
export { serializeSafetensors, writeSafetensors } from './safetensors-writer.js';
export { DEFAULT_MAX_HEADER_BYTES, type SafetensorsOpenOptions } from './safetensors-header.js';
export type { WritableTensors } from './safetensors-layout.js';
export type { SafetensorsDType, TensorData, TensorInfo, WritableTensor, WritableTensorData } from './tensor-types.js';
