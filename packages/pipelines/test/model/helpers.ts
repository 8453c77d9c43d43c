import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MigeInputError, nn, Rng, tf, type RgbImage } from '@mige/core';
import { parseMigeConfig, type MigeConfig, type MigeModel } from '../../src/model/index.js';

export { TEST_BACKENDS, expectClose, fixturePath, maxAbsDiff, readFixture, useBackend } from '@mige/core/testing';

export const DATA = join(dirname(fileURLToPath(import.meta.url)), '..', 'data', 'model');

/** An even smaller MIGE than mige-tiny (16 px, 87k parameters): the committed .pth fixtures' config. */
export function microConfig(): MigeConfig {
  const path = join(DATA, 'micro-config.json');
  return parseMigeConfig(JSON.parse(readFileSync(path, 'utf8')), path);
}

/** A fresh temp folder, removed by the returned cleanup. */
export function tempDir(): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), 'mige-model-test-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Overwrites every parameter (VAE too) with non-zero random values: a fresh DiT has zero
 * gates and output layers, so its output would be zeros whatever the weights.
 */
export function randomizeAll(model: MigeModel, seed: string): void {
  const rng = new Rng(seed);
  const params: [string, tf.Variable][] = [...model.namedParameters(), ...model.vae.namedParameters()];
  for (const [name, p] of params) {
    const fanIn = p.shape.slice(1).reduce((a, b) => a * b, 1);
    const value = p.rank >= 2 ? rng.rand([...p.shape], -Math.sqrt(3 / fanIn), Math.sqrt(3 / fanIn)) : rng.randn([...p.shape], 0, name.endsWith('scale_shift_table') ? 0.3 : 0.1);
    p.assign(value);
    value.dispose();
  }
}

/** A deterministic w×h RGB image with smooth colour ramps plus noise. */
export function testImage(w: number, h: number, seed: number): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = (y * w + x) * 3;
      data[i] = (x * 255) / w;
      data[i + 1] = (y * 255) / h;
      data[i + 2] = rng.int(0, 256);
    }
  }
  return { width: w, height: h, data };
}

/** Every tensor of `a` equals `b`'s bit for bit (same names, shapes, values). */
export function sameTensors(a: Map<string, tf.Tensor>, b: Map<string, tf.Tensor | nn.StateDictValue>): string[] {
  const problems: string[] = [];
  if ([...a.keys()].sort().join() !== [...b.keys()].sort().join()) problems.push('different names');
  for (const [k, t] of a) {
    const u = b.get(k);
    if (!u) continue;
    const ud = u instanceof tf.Tensor ? u.dataSync() : u.data;
    const td = t.dataSync();
    if (t.shape.join() !== [...u.shape].join() || td.length !== ud.length || td.some((v, i) => !Object.is(v, ud[i]))) problems.push(k);
  }
  return problems;
}

/** The MigeInputError `f` throws (anything else, or nothing, fails the test). */
export function errorOf(f: () => unknown): MigeInputError {
  try {
    f();
  } catch (e) {
    if (e instanceof MigeInputError) return e;
    throw e;
  }
  throw new Error('expected a MigeInputError');
}
