/**
 * Kernel additions for tfjs 4.22's wasm backend: the gradient kernels it lacks, faster copy kernels,
 * and a StridedSlice gradient.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterFunc } from './conv2d-backprop-filter.js';
import { copyKernelFuncs, stock } from './copy-kernels.js';
import type { StockKernels } from './copy-kernels.js';
import { depthwiseBackpropFilterFunc, depthwiseBackpropInputFunc } from './depthwise-backprop.js';
import { registerStridedSliceGradient } from './strided-slice-grad.js';
import { unsortedSegmentSumFunc } from './unsorted-segment-sum.js';
import { WASM } from './util.js';

export { registerStridedSliceGradient } from './strided-slice-grad.js';

/** Kernels the stock wasm backend does not have; registered only while the name is free. */
const ADDED_KERNELS: Readonly<Record<string, KernelFunc>> = {
  Conv2DBackpropFilter: conv2DBackpropFilterFunc,
  DepthwiseConv2dNativeBackpropFilter: depthwiseBackpropFilterFunc,
  DepthwiseConv2dNativeBackpropInput: depthwiseBackpropInputFunc,
  UnsortedSegmentSum: unsortedSegmentSumFunc,
};

/** Kernels whose stock versions are replaced; the stock function stays reachable for other cases. */
const REPLACED_KERNELS: Readonly<Record<keyof StockKernels, KernelFunc>> = copyKernelFuncs;

export const ADDED_WASM_KERNELS: readonly string[] = Object.keys(ADDED_KERNELS);
export const REPLACED_WASM_KERNELS: readonly string[] = Object.keys(REPLACED_KERNELS);

/**
 * Registers MIGE's wasm kernel additions. Call it once the wasm backend's kernels are registered
 * (importing '@tensorflow/tfjs-backend-wasm' does that), before or after `setBackend('wasm')`.
 * Idempotent. Only the 'wasm' kernel registry is touched, plus the backend-independent StridedSlice
 * gradient.
 */
export function registerWasmKernels(): void {
  if (!getKernel('Slice', WASM)) {
    throw new Error("registerWasmKernels: the wasm backend's kernels are not registered (import '@tensorflow/tfjs-backend-wasm' first)");
  }
  for (const [name, kernelFunc] of Object.entries(ADDED_KERNELS)) {
    // A kernel that exists already (ours, or a native one in a newer tfjs) is left alone.
    if (!getKernel(name, WASM)) registerKernel({ kernelName: name, backendName: WASM, kernelFunc });
  }
  for (const name of Object.keys(REPLACED_KERNELS) as Array<keyof StockKernels>) {
    const kernelFunc = REPLACED_KERNELS[name];
    const current = getKernel(name, WASM);
    if (!current || current.kernelFunc === kernelFunc) continue;
    stock[name] = current.kernelFunc;
    // Keep the stock setup/dispose hooks: when this runs before the backend initialises, the stock
    // kernel's setupFunc (its cwrap of the C++ function we delegate to) must still run.
    const replacement: KernelConfig = { ...current, kernelFunc };
    unregisterKernel(name, WASM);
    registerKernel(replacement);
  }
  registerStridedSliceGradient();
}

/** True when `registerWasmKernels` has taken effect for every kernel it handles. */
export function wasmKernelsRegistered(): boolean {
  return (
    Object.entries(ADDED_KERNELS).every(([name]) => getKernel(name, WASM) !== undefined) &&
    Object.entries(REPLACED_KERNELS).every(([name, f]) => getKernel(name, WASM)?.kernelFunc === f)
  );
}
