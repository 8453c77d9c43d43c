// Classifier-free guidance: the `cfg` fixture (README §8) and the batching contract of
// guidedNoiseModel.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MigeInputError, tf, type Latents } from '@mige/core';
import { combineGuidance, GUIDANCE_BRANCHES, guidedNoiseModel } from '../../src/diffusion/index.js';
import { get, maxAbsDiff, readFixture, TEST_BACKENDS, useBackend } from './helpers.js';

const SCALES = { y: 5, s: 1.5 };
const report: string[] = [];

describe.each(TEST_BACKENDS)('guidance on %s', (backend) => {
  let io: Map<string, tf.Tensor>;

  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('cfg/io.safetensors');
  });

  it('combineGuidance reproduces subject.guided and edit.guided', () => {
    const subject = tf.concat([get(io, 'subject.noise_uncond'), get(io, 'subject.noise')], 0) as Latents;
    const edit = tf.concat([get(io, 'edit.noise_uncond_sy'), get(io, 'edit.noise_uncond_y'), get(io, 'edit.noise')], 0) as Latents;
    const ds = maxAbsDiff(combineGuidance('subject', subject, SCALES), get(io, 'subject.guided'));
    const de = maxAbsDiff(combineGuidance('edit', edit, SCALES), get(io, 'edit.guided'));
    report.push(`${backend} subject.guided ${ds.toExponential(2)}, edit.guided ${de.toExponential(2)}`);
    expect(ds).toBeLessThanOrEqual(1e-5);
    expect(de).toBeLessThanOrEqual(1e-5);
    expect(maxAbsDiff(combineGuidance('uncond', tf.slice(subject, 0, 2) as Latents, SCALES), get(io, 'subject.noise_uncond'))).toBe(0);
  });

  it('guidedNoiseModel calls the network once on x tiled per branch and combines the chunks', () => {
    const x = get<Latents>(io, 'x');
    const seen: number[][] = [];
    // A network whose output is branch j's fixture tensor for rows of chunk j, checking the tiling.
    const fixed = [get(io, 'edit.noise_uncond_sy'), get(io, 'edit.noise_uncond_y'), get(io, 'edit.noise')];
    const model = guidedNoiseModel('edit', SCALES, (xIn, t) => {
      seen.push([...xIn.shape, t]);
      for (let j = 0; j < 3; j++) expect(maxAbsDiff(tf.slice(xIn, j * 2, 2), x)).toBe(0);
      return tf.concat(fixed, 0) as Latents;
    });
    const before = tf.memory().numTensors;
    const eps = model(x, 499);
    expect(tf.memory().numTensors).toBe(before + 1);
    expect(seen).toEqual([[6, 4, 4, 4, 499]]);
    expect(maxAbsDiff(eps, get(io, 'edit.guided'))).toBeLessThanOrEqual(1e-5);
    eps.dispose();
  });
});

describe('guidance contract', () => {
  it('lists the reference branches in batch order', () => {
    expect(GUIDANCE_BRANCHES.subject).toEqual([{ nullY: true, zeroSource: false }, { nullY: false, zeroSource: false }]);
    expect(GUIDANCE_BRANCHES.edit.map((b) => [b.nullY, b.zeroSource])).toEqual([[true, true], [true, false], [false, false]]);
    expect(GUIDANCE_BRANCHES.uncond).toEqual([{ nullY: false, zeroSource: false }]);
  });

  it('rejects bad input with MigeInputError naming the field', () => {
    const eps = tf.zeros([3, 4, 2, 2]) as Latents;
    expect(() => combineGuidance('subject', eps, SCALES)).toThrow(/2·B/);
    expect(() => combineGuidance('edit', eps, { y: 5, s: Number.NaN })).toThrow(/scales\.s/);
    expect(() => combineGuidance('bogus' as 'edit', eps, SCALES)).toThrow(MigeInputError);
    const wrong = guidedNoiseModel('subject', SCALES, (xIn) => tf.slice(xIn, 0, 1) as Latents);
    expect(() => wrong(tf.zeros([1, 4, 2, 2]) as Latents, 0)).toThrow(/expected \[2, 4, 2, 2\]/);
    eps.dispose();
  });
});

afterAll(() => {
  if (report.length) console.log(`cfg max abs diffs: ${report.join('; ')}`);
});
