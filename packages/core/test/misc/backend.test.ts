import * as tf from '@tensorflow/tfjs-core';
import { afterEach, describe, expect, it } from 'vitest';
import { getBackendInfo, initBackend } from '../../src/backend/index.js';
import { MigeInputError } from '../../src/errors.js';

describe('initBackend', () => {
  const saved = process.env.MIGE_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.MIGE_BACKEND;
    else process.env.MIGE_BACKEND = saved;
  });

  it('falls through the preference order to wasm when tfjs-node is not installed, and logs once', async () => {
    delete process.env.MIGE_BACKEND;
    const lines: string[] = [];
    const info = await initBackend({ log: (l) => lines.push(l) });
    expect(info.name).toBe('wasm');
    expect(info.reason).toBe('preference order');
    expect(tf.getBackend()).toBe('wasm');
    await initBackend({ log: (l) => lines.push(l) });
    expect(lines).toEqual(['[mige] backend: wasm (preference order)']);
    expect(getBackendInfo()?.name).toBe('wasm');
  });

  it('obeys MIGE_BACKEND, and an explicit request over it', async () => {
    process.env.MIGE_BACKEND = 'cpu';
    expect((await initBackend({ log: null })).reason).toBe('MIGE_BACKEND');
    expect(tf.getBackend()).toBe('cpu');
    expect((await initBackend({ backend: 'wasm', log: null })).name).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
  });

  it('names a bad or unavailable backend instead of silently falling back', async () => {
    process.env.MIGE_BACKEND = 'cuda';
    await expect(initBackend({ log: null })).rejects.toThrow(MigeInputError);
    await expect(initBackend({ log: null })).rejects.toThrow('MIGE_BACKEND: unknown backend "cuda"; expected one of tensorflow-gpu, tensorflow, wasm, cpu');
    delete process.env.MIGE_BACKEND;
    await expect(initBackend({ backend: 'tensorflow', log: null })).rejects.toThrow(/backend "tensorflow" could not start \(@tensorflow\/tfjs-node is not installed\)/);
    expect((await initBackend({ log: null })).name).toBe(getBackendInfo()?.name);
  });

  it('registers the wasm kernel additions on wasm', async () => {
    await initBackend({ backend: 'wasm', log: null });
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
    expect(tf.getKernel('UnsortedSegmentSum', 'wasm')).toBeDefined();
  });
});
