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
export { ZipReader, type ZipEntry } from './zip.js';
export { syncDirectory, writeFileAtomic, writeTextFileAtomic } from './atomic-write.js';
export { writableFromTensor, writableFromTensors } from './writable-tensor.js';
