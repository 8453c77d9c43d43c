import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mige, tempDir } from '../cli/helpers.js';

describe('mige train --engine', () => {
  let dir = '';
  let cleanup = async () => {};
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterAll(() => cleanup());
  const base = (out: string) => ['train', '--model', 'mige-tiny', '--world', '8', '--out', join(dir, out), '--batch-size', '2', '--warmup', '0', '--steps', '2', '--log', 'jsonl'];

  it('trains on ONNX Runtime by default and on TF.js with --engine tfjs, and says which', async () => {
    const onnx = await mige([...base('onnx'), '--threads', '2', '--prefetch']);
    expect([onnx.code, onnx.stdout]).toEqual([0, expect.stringMatching(/^trained 2 steps on the onnx engine/)]);
    const tfjs = await mige([...base('tfjs'), '--engine', 'tfjs']);
    expect([tfjs.code, tfjs.stdout]).toEqual([0, expect.stringMatching(/^trained 2 steps on the tfjs engine/)]);
  });

  it('refuses options of the other engine and unknown engines with one line', async () => {
    for (const [args, message] of [
      [['--engine', 'tfjs', '--threads', '2'], '--threads, --device and --prefetch apply to --engine onnx'],
      [['--engine', 'onnx', '--workers', '2'], '--workers applies to --engine tfjs'],
      [['--engine', 'jax'], '--engine'],
      [['--device', 'tpu'], '--device'],
    ] as const) {
      const r = await mige([...base('bad'), ...args]);
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
  });
});
