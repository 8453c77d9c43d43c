/**
 * @mige/core: the shared foundation of MIGE.js. Importing it loads tfjs-core with the cpu and
 * wasm backends and registers tfjs's gradients; call `initBackend()` before heavy work.
 */
export * as tf from '@tensorflow/tfjs-core';
export { fileSystemError, MigeInputError } from './errors.js';
export * from './backend/index.js';
export * from './tensors.js';
export * from './rng.js';
export * from './progress.js';
export * as nn from './nn/index.js';
export * from './interfaces.js';
export * from './io/index.js';
export * from './image/index.js';
export * from './onnx/index.js';
export { loadOnnxRuntime, onnxExecutionProviders, ONNX_RUNTIME_INSTALL_HINT, type OnnxDevice, type OnnxExecutionProviders, type OnnxRuntime } from './optional/onnx-runtime.js';
export { loadSharp, type Sharp } from './optional/sharp.js';
