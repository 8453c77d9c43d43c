import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SamplerConfig } from '../../src/diffusion/index.js';
import { edit, generate, modelFlowDefaults, REFERENCE_SAMPLER } from '../../src/flows/index.js';
import { loadModel, MIGE_TINY, MigeModel, parseSamplingDefaults, samplingDefaults, saveModel, setSamplingDefaults } from '../../src/model/index.js';
import { picture } from '../flows/pictures.js';
import { tempDir, useBackend } from './helpers.js';

describe('a model\'s own sampling defaults (sampling.json)', () => {
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    await useBackend('wasm');
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it('round-trips through the model folder and drives the flows unless a request overrides them', async () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 3 });
    expect(samplingDefaults(model)).toEqual({});
    expect(modelFlowDefaults(model, 'edit')).toMatchObject({ steps: 60, scales: { y: 5, s: 1 }, sampler: REFERENCE_SAMPLER });
    setSamplingDefaults(model, { edit: { sampler: { type: 'ddpm' }, steps: 4, scales: { y: 2 } }, generate: { steps: 3 } });
    const dir = join(tmp.dir, 'with-sampling');
    saveModel(model, dir);
    model.dispose();
    expect(JSON.parse(readFileSync(join(dir, 'sampling.json'), 'utf8'))).toEqual({ edit: { sampler: { type: 'ddpm' }, steps: 4, scales: { y: 2 } }, generate: { steps: 3 } });

    const loaded = loadModel(dir);
    expect(modelFlowDefaults(loaded, 'edit')).toEqual({ guidance: 'edit', steps: 4, scales: { y: 2, s: 1 }, sampler: { type: 'ddpm' } });
    expect(modelFlowDefaults(loaded, 'compose')).toMatchObject({ steps: 60, sampler: REFERENCE_SAMPLER });
    const e = await edit(loaded, { instruction: 'make it blue', source: picture(1) });
    expect(e.images[0]?.params).toMatchObject({ steps: 4, scales: { y: 2, s: 1 }, sampler: { type: 'ddpm' } });
    e.tensor.dispose();
    const g = await generate(loaded, { instruction: 'a <imagehere>', images: [picture(2)] }, { steps: 2, sampler: { type: 'ddim' } });
    expect(g.images[0]?.params).toMatchObject({ steps: 2, scales: { y: 7 }, sampler: { type: 'ddim' } });
    g.tensor.dispose();
    // A request's sampler of the default's type changes only the fields it names, as scales do.
    setSamplingDefaults(loaded, { edit: { sampler: { type: 'ddpm', maxTimestep: 700 }, steps: 4 } });
    const merged = async (sampler: SamplerConfig) => {
      const r = await edit(loaded, { instruction: 'make it blue', source: picture(1) }, { sampler });
      r.tensor.dispose();
      return r.images[0]?.params.sampler;
    };
    expect(await merged({ type: 'ddpm' })).toEqual({ type: 'ddpm', maxTimestep: 700 });
    expect(await merged({ type: 'ddpm', maxTimestep: 300 })).toEqual({ type: 'ddpm', maxTimestep: 300 });
    expect(await merged({ type: 'ddim' })).toEqual({ type: 'ddim' });

    // Saving a model without defaults over the folder removes the stale file.
    setSamplingDefaults(loaded, {});
    saveModel(loaded, dir);
    loaded.dispose();
    const plain = loadModel(dir);
    expect(samplingDefaults(plain)).toEqual({});
    plain.dispose();
  });

  it('names the file and the field of a bad sampling.json', () => {
    const model = MigeModel.create(MIGE_TINY, { seed: 3 });
    const dir = join(tmp.dir, 'bad');
    saveModel(model, dir);
    model.dispose();
    const file = join(dir, 'sampling.json');
    const cases: [string, RegExp][] = [
      ['{ "edit": { "steps": 0 } }', /edit\.steps must be an integer >= 1, got 0/],
      ['{ "edit": { "sampler": { "type": "euler" } } }', /edit\.sampler: .*unknown sampler type "euler"/],
      ['{ "inpaint": {} }', /inpaint is not a flow/],
      ['{ "edit": { "scales": { "z": 1 } } }', /edit\.scales\.z is not a guidance scale/],
      ['{ "edit": { "stpes": 10 } }', /edit\.stpes is not a known field/],
      ['{ "edit": ', /is not valid JSON/],
    ];
    for (const [text, message] of cases) {
      writeFileSync(file, text);
      let error: unknown;
      try {
        loadModel(dir).dispose();
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(MigeInputError);
      expect((error as MigeInputError).message).toMatch(message);
      expect((error as MigeInputError).message + String((error as MigeInputError).where)).toContain('sampling.json');
    }
    expect(() => parseSamplingDefaults([], 'x')).toThrow(/must be an object/);
  });
});
