// The one lazy loader of onnxruntime-node (an optional peer): it loads the real module once.
// The message for a missing install is checked by the packaging test (.ci/packaging), which
// installs the tarballs without onnxruntime-node.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isMissingPackage } from '../../src/optional/optional-import.js';
import { loadOnnxRuntime, MigeInputError, onnxExecutionProviders, ONNX_RUNTIME_INSTALL_HINT } from '../../src/index.js';

describe('loadOnnxRuntime', () => {
  it('imports onnxruntime-node once and gives its InferenceSession and Tensor', async () => {
    const a = await loadOnnxRuntime();
    const b = await loadOnnxRuntime('another use');
    expect(a).toBe(b);
    expect(typeof a.InferenceSession.create).toBe('function');
    const t = new a.Tensor('float32', Float32Array.of(1, 2, 3), [3]);
    expect([...(t.data as Float32Array)]).toEqual([1, 2, 3]);
  });

  it('says how to install it, including the way around the CUDA download', () => {
    expect(ONNX_RUNTIME_INSTALL_HINT).toContain('npm install onnxruntime-node@1.30.0');
    expect(ONNX_RUNTIME_INSTALL_HINT).toContain('ONNXRUNTIME_NODE_INSTALL=skip');
  });
});

describe('onnxExecutionProviders', () => {
  it("maps 'cpu' to ORT's CPU provider", async () => {
    expect(await onnxExecutionProviders('cpu')).toEqual(['cpu']);
  });

  it("gives 'cuda' only where its provider library is installed, else says what is missing and how to install it", async () => {
    const bin = join(dirname(createRequire(import.meta.url).resolve('onnxruntime-node/package.json')), 'bin', 'napi-v6', process.platform, process.arch);
    if (existsSync(join(bin, 'libonnxruntime_providers_cuda.so'))) {
      expect(await onnxExecutionProviders('cuda')).toEqual([{ name: 'cuda' }]);
    } else {
      // The project machines: pnpm does not run onnxruntime-node's install script, so no CUDA add-on.
      await expect(onnxExecutionProviders('cuda', '--device')).rejects.toThrow(/--device: the CUDA execution provider is not installed: libonnxruntime_providers_cuda\.so is missing from .*ONNXRUNTIME_NODE_INSTALL=cuda12/);
    }
    await expect(onnxExecutionProviders('gpu' as 'cuda')).rejects.toThrow(MigeInputError);
  });
});

describe('isMissingPackage', () => {
  it('tells a package that is not installed from one that is installed but broken', () => {
    const missing = [
      "Cannot find package '@tensorflow/tfjs-node' imported from /app/node_modules/@mige/core/dist/index.cjs",
      "Cannot find module '@tensorflow/tfjs-node'\nRequire stack:\n- /app/x.js",
      'Could not resolve "@tensorflow/tfjs-node" imported by "@mige/core".',
    ];
    for (const m of missing) expect(isMissingPackage(new Error(m), '@tensorflow/tfjs-node'), m).toBe(true);
    const broken = [
      "Cannot find module '/app/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'",
      'The specified module could not be found.\ntfjs_binding.node can not be found',
      "Cannot find package 'long' imported from /app/node_modules/@tensorflow/tfjs-node/dist/index.js",
    ];
    for (const m of broken) expect(isMissingPackage(new Error(m), '@tensorflow/tfjs-node'), m).toBe(false);
  });
});
