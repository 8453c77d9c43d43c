/**
 * Kernel additions for tfjs 4.22's wasm backend: the gradient kernels it lacks, faster copy kernels,
 * a faster Conv2DBackpropInput, and a StridedSlice gradient.
 */
import { getKernel, registerKernel, unregisterKernel } from '@tensorflow/tfjs-core';
import type { KernelConfig, KernelFunc } from '@tensorflow/tfjs-core';
import { conv2DBackpropFilterFunc } from './conv2d-backprop-filter.js';
import { conv2DBackpropInputFunc, stockConv2DBackpropInput } from './conv2d-backprop-input.js';
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

/** A kernel whose stock version is replaced; `keepStock` receives the stock function for the cases it passes on. */
interface Replacement {
  kernelFunc: KernelFunc;
  keepStock: (stockFunc: KernelFunc) => void;
}

const REPLACED_KERNELS: Readonly<Record<string, Replacement>> = {
  ...Object.fromEntries(
    (Object.keys(copyKernelFuncs) as Array<keyof StockKernels>).map((name) => [
      name,
      { kernelFunc: copyKernelFuncs[name], keepStock: (f: KernelFunc) => (stock[name] = f) },
    ]),
  ),
  Conv2DBackpropInput: {
    kernelFunc: conv2DBackpropInputFunc,
    keepStock: (f: KernelFunc) => (stockConv2DBackpropInput.kernelFunc = f),
  },
};

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
  for (const [name, { kernelFunc, keepStock }] of Object.entries(REPLACED_KERNELS)) {
    const current = getKernel(name, WASM);
    if (!current || current.kernelFunc === kernelFunc) continue;
    keepStock(current.kernelFunc);
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
    Object.entries(REPLACED_KERNELS).every(([name, r]) => getKernel(name, WASM)?.kernelFunc === r.kernelFunc)
  );
}
