/** Weights IO: safetensors (read/write) and PyTorch checkpoints (read). */
export * from './safetensors.js';
export {
  PthReader,
  PthTensorLeaf,
  readPthStateDict,
  WRAPPER_KEYS,
  type PthOpenOptions,
  type PthTensorInfo,
  type PthTree,
  type TorchDType,
} from './pth.js';
export { ZipReader, type ZipEntry, type ZipReadOptions } from './zip.js';
export {
  DEFAULT_BUDGET_FLOOR_BYTES,
  DEFAULT_EXPANSION_RATIO,
  DEFAULT_MAX_HEADER_ENTRIES,
  DEFAULT_MAX_PICKLE_OBJECTS,
  defaultMaxBytes,
  type LoadLimits,
} from './load-limits.js';
export { syncDirectory, writeFileAtomic, writeTextFileAtomic } from './atomic-write.js';
export { writableFromTensor, writableFromTensors } from './writable-tensor.js';
