import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { MigeInputError } from '../errors.js';
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

/** Where ONNX Runtime runs a model: the CPU, or an NVIDIA GPU through its CUDA provider. */
export type OnnxDevice = 'cpu' | 'cuda';

/** ORT's execution-provider list for a device, as InferenceSession.create takes it. */
export type OnnxExecutionProviders = NonNullable<Ort.InferenceSession.SessionOptions['executionProviders']>;

/** The CUDA provider's library in onnxruntime-node's package, per platform (none elsewhere). */
const CUDA_LIBRARY: Partial<Record<string, string>> = { 'linux/x64': 'libonnxruntime_providers_cuda.so', 'win32/x64': 'onnxruntime_providers_cuda.dll' };

/**
 * The execution providers for `device`, after checking that the provider can load: 'cpu' →
 * ['cpu']; 'cuda' → [cuda] alone (no silent CPU fallback), and a MigeInputError naming what is
 * missing and how to install it when onnxruntime-node has no CUDA provider here (its CUDA add-on
 * is a separate download on Linux x64; other platforms have none in onnxruntime-node).
 */
export async function onnxExecutionProviders(device: OnnxDevice, where = 'device'): Promise<OnnxExecutionProviders> {
  if (device === 'cpu') return ['cpu'];
  if (device !== 'cuda') throw new MigeInputError(`unknown device ${JSON.stringify(device)}: expected 'cpu' or 'cuda'`, where);
  const ort = await loadOnnxRuntime("device 'cuda'");
  const platform = `${process.platform}/${process.arch}`;
  const library = CUDA_LIBRARY[platform];
  if (!library || !ort.listSupportedBackends().some((b) => b.name === 'cuda')) {
    throw new MigeInputError(`onnxruntime-node has no CUDA execution provider for ${platform}; use device 'cpu'`, where);
  }
  const binDir = join(dirname(resolveFrom('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
  if (!existsSync(join(binDir, library))) {
    throw new MigeInputError(
      `the CUDA execution provider is not installed: ${library} is missing from ${binDir}. onnxruntime-node downloads it at install time; ` +
        'reinstall it where that download works: "ONNXRUNTIME_NODE_INSTALL=cuda12 npm install onnxruntime-node@1.30.0" (it needs CUDA 12 and cuDNN 9 on the machine)',
      where,
    );
  }
  return [{ name: 'cuda' }];
}

/** require.resolve from this module, in the CommonJS build (require) and from sources (ESM). */
function resolveFrom(specifier: string): string {
  const req = typeof require === 'function' ? require : createRequire((import.meta as { url: string }).url);
  return req.resolve(specifier);
}
