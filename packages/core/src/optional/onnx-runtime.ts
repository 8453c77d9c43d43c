import type * as Ort from 'onnxruntime-node';
import { MigeInputError } from '../errors.js';

/** The onnxruntime-node module, as `import('onnxruntime-node')` gives it. */
export type OnnxRuntime = typeof Ort;

/**
 * How to install onnxruntime-node. Its install script (1.30) downloads the CUDA execution
 * provider from NuGet on Linux x64 and fails the whole install where that host is unreachable;
 * `ONNXRUNTIME_NODE_INSTALL=skip` (or npm's `--ignore-scripts`) keeps the bundled CPU build.
 */
export const ONNX_RUNTIME_INSTALL_HINT =
  'install it next to MIGE.js with "npm install onnxruntime-node@1.30.0" (on Linux x64 its install script downloads the CUDA provider; ' +
  'where that download is not wanted or not reachable: "ONNXRUNTIME_NODE_INSTALL=skip npm install onnxruntime-node@1.30.0")';

let pending: Promise<OnnxRuntime> | undefined;

/**
 * Imports onnxruntime-node once per process, on first use: it is an optional peer dependency of
 * the packages that run ONNX models (its native binding loads on import, so nothing imports it
 * eagerly). A missing or broken install is a MigeInputError that says how to install it.
 */
export function loadOnnxRuntime(purpose = 'running ONNX models'): Promise<OnnxRuntime> {
  pending ??= import(/* @vite-ignore */ 'onnxruntime-node').then(
    // The CJS build's namespace object may hold the module under `default`.
    (m: OnnxRuntime & { default?: OnnxRuntime }) => (m.InferenceSession ? m : (m.default ?? m)),
    (error: unknown) => {
      pending = undefined;
      const code = (error as { code?: unknown }).code;
      const missing = code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
      const why = missing ? 'is not installed' : `could not load (${error instanceof Error ? error.message.split('\n')[0] : String(error)})`;
      throw new MigeInputError(`${purpose} needs onnxruntime-node, which ${why}: ${ONNX_RUNTIME_INSTALL_HINT}`, 'onnxruntime-node');
    },
  );
  return pending;
}
