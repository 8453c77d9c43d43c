import type * as Ort from 'onnxruntime-node';
import { commonJsModule, optionalImport } from './optional-import.js';

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

const load = optionalImport('onnxruntime-node', (m) => commonJsModule<OnnxRuntime>(m, 'InferenceSession'));

/**
 * Imports onnxruntime-node once per process, on first use: it is an optional peer dependency of
 * the packages that run ONNX models (its native binding loads on import, so nothing imports it
 * eagerly). A missing or broken install is a MigeInputError that says how to install it;
 * `purpose` (e.g. 'the onnx engine') starts that message.
 */
export function loadOnnxRuntime(purpose = 'running ONNX models'): Promise<OnnxRuntime> {
  return load((why) => `${purpose} needs onnxruntime-node, which ${why}: ${ONNX_RUNTIME_INSTALL_HINT}`);
}
