// FFM against the `ffm` golden fixture (fixtures/reference/README.md §5): FFM(clip, vae) → out.
import { nn, SafetensorsReader, tf, type TokenSequence } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FFM, FFM_TINY } from '../src/index.js';
import { expectClose, fixtureFfm, fixturePath, get, readFixture, TEST_BACKENDS, useBackend } from './helpers.js';

const TOL = 1e-4;
const report: string[] = [];

describe.each(TEST_BACKENDS)('FFM parity on %s', (backend) => {
  let io: Map<string, tf.Tensor>;
  beforeAll(async () => {
    await useBackend(backend);
    io = readFixture('ffm/io.safetensors');
  });

  it('has exactly the reference state-dict keys and shapes', () => {
    const ffm = nn.withoutInit(() => new FFM(FFM_TINY));
    const reader = SafetensorsReader.open(fixturePath('ffm/weights.safetensors'));
    try {
      const ours = [...ffm.stateDict()].map(([k, t]) => `${k} ${t.shape.join('x')}`).sort();
      const ref = reader.keys().map((k) => `${k} ${reader.info(k).shape.join('x')}`).sort();
      expect(ours).toEqual(ref);
    } finally {
      reader.close();
    }
  });

  it('matches out to 1e-4', () => {
    const ffm = fixtureFfm('ffm/weights.safetensors', '');
    const out = ffm.forward(get<TokenSequence>(io, 'clip'), get<TokenSequence>(io, 'vae'));
    report.push(`${backend} ffm out: ${expectClose(out, get(io, 'out'), TOL, 'out').toExponential(2)}`);
  });

  it('computes each batch item independently of the others', () => {
    const ffm = fixtureFfm('ffm/weights.safetensors', '');
    const clip = tf.slice(get(io, 'clip'), [1, 0, 0], [1, -1, -1]) as TokenSequence;
    const vae = tf.slice(get(io, 'vae'), [1, 0, 0], [1, -1, -1]) as TokenSequence;
    expectClose(ffm.forward(clip, vae), tf.slice(get(io, 'out'), [1, 0, 0], [1, -1, -1]), TOL, 'out[1]');
  });
});

afterAll(() => {
  if (process.env.FUSION_PARITY_REPORT) console.log(report.join('\n'));
});
