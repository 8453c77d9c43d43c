// The one lazy loader of onnxruntime-node (an optional peer): it loads the real module once.
// The message for a missing install is checked by the packaging test (.ci/packaging), which
// installs the tarballs without onnxruntime-node.
import { describe, expect, it } from 'vitest';
import { loadOnnxRuntime, ONNX_RUNTIME_INSTALL_HINT } from '../../src/index.js';

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
