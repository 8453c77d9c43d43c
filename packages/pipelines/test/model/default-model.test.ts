import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeImage, type RgbImage } from '@mige/core';
import { benchmarkSplit, generateExample, objectScores, splitExamples, type WorldExample, type WorldTask } from '@mige/data';
import { edit, flowEvalModel, generate, modelFlowDefaults } from '../../src/flows/index.js';
import { defaultModelDir, hasDefaultModel, loadDefaultModel, packageRoot, type MigeModel } from '../../src/model/index.js';
import { useBackend } from './helpers.js';

describe('the default model (@mige/model-world)', () => {
  let model: MigeModel;
  beforeAll(async () => {
    await useBackend('wasm');
    model = await loadDefaultModel();
  });
  afterAll(() => model.dispose());

  it('is found in its own package, within the 30 MB budget, with its model card', () => {
    expect(hasDefaultModel()).toBe(true);
    const dir = defaultModelDir();
    expect(JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name).toBe('@mige/model-world');
    const files = readdirSync(dir).filter((f) => !['package.json', 'README.md', 'LICENSE', 'node_modules'].includes(f) && !f.startsWith('index.')).sort();
    expect(files).toEqual(['MODEL_CARD.md', 'config.json', 'model.safetensors', 'sampling.json', 'tokenizer.json']);
    const bytes = files.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0);
    expect(bytes).toBeLessThanOrEqual(30 * 1024 * 1024);
    const card = readFileSync(join(dir, 'MODEL_CARD.md'), 'utf8');
    for (const section of ['## Architecture', '## Data', '## Training', '## Benchmark', '## Limitations']) expect(card).toContain(section);
  });

  it('follows a background instruction: the edited image takes the asked colour, not the source\'s', async () => {
    // Validation-split background edits whose old and new background colours are far apart.
    const cases = [...splitExamples(benchmarkSplit({ seed: 1, size: 64, counts: { background: 16 } }))]
      .filter((ex) => dist(borderColour(ex.target), borderColour(ex.source as RgbImage)) > 60).slice(0, 3);
    expect(cases).toHaveLength(3);
    for (const ex of cases) {
      const r = await edit(model, { instruction: ex.instruction, source: ex.source as RgbImage }, { seed: 0 });
      r.tensor.dispose();
      const out = borderColour((r.images[0] as { image: RgbImage }).image);
      const [want, was] = [borderColour(ex.target), borderColour(ex.source as RgbImage)];
      expect(dist(out, want), `${ex.instruction}: got ${out.map(Math.round).join(',')}, want ${want.join(',')}, source ${was.join(',')}`).toBeLessThan(dist(out, was) / 2);
    }
  });

  it('follows a one-subject instruction: the generation takes the asked background, not another case\'s', async () => {
    // Validation-split one-subject cases with pairwise distinct (pastel) backgrounds. (With two or
    // three subjects the background is right less often: MODEL_CARD.md.)
    const cases: WorldExample[] = [];
    for (const ex of splitExamples(benchmarkSplit({ seed: 1, size: 64, counts: { subject: 40 } }))) {
      if (ex.entities.length === 1 && cases.every((c) => dist(borderColour(c.target), borderColour(ex.target)) > 45)) cases.push(ex);
    }
    expect(cases.length).toBeGreaterThanOrEqual(3);
    for (const ex of cases.slice(0, 3)) {
      const r = await generate(model, { instruction: ex.instruction, images: ex.entities }, { seed: 0 });
      r.tensor.dispose();
      const out = borderColour((r.images[0] as { image: RgbImage }).image);
      const want = dist(out, borderColour(ex.target));
      const nearestOther = Math.min(...cases.filter((c) => c !== ex).map((c) => dist(out, borderColour(c.target))));
      expect(want, `${ex.instruction}: got ${out.map(Math.round).join(',')}, want ${borderColour(ex.target).map(Math.round).join(',')}`).toBeLessThan(nearestOther * 0.6);
    }
  });

  it('carries out each of the demo\'s three examples, which are the world cases demo.json names', async () => {
    // scripts/demo.mjs runs these (seed 0, the model's sampling.json); make-demo-inputs.ts --scan
    // picked them. The world's object-level check is the "visibly follows its instruction" test.
    const dir = join(packageRoot(), 'demo');
    const demo = JSON.parse(readFileSync(join(dir, 'demo.json'), 'utf8')) as {
      seed: number;
      examples: { flow: string; task: WorldTask; instruction: string; expected: string; selection: { index: number } }[];
    };
    expect(demo.examples.map((e) => e.flow)).toEqual(['generate', 'edit', 'compose']);
    const run = flowEvalModel(model, { seed: 0 });
    for (const ex of demo.examples) {
      const world = generateExample(demo.seed, ex.selection.index, { task: ex.task, size: 64 });
      expect(ex.instruction).toBe(world.instruction);
      expect((await decodeImage(join(dir, ex.expected))).data).toEqual(world.target.data);
      expect(objectScores(world, await run(world)).instructed, `${ex.flow}: "${ex.instruction}"`).toBe(1);
    }
  });

  it('is MIGE at 64 px with every component, a v-prediction DiT sampled by DPM-Solver++ (sampling.json)', () => {
    expect(model.config.name).toBe('mige-world');
    expect(model.config.imageSize).toBe(64);
    expect(model.config.fusion.type).toBe('ffm');
    expect(model.config.prediction).toBe('v');
    for (const flow of ['generate', 'edit', 'compose'] as const) {
      expect(modelFlowDefaults(model, flow)).toMatchObject({ sampler: { type: 'dpm-solver' }, steps: 20 });
    }
  });
});

/** Mean RGB of an image's outer 2-pixel frame (the world places objects away from the edges). */
function borderColour(img: RgbImage): number[] {
  const sum = [0, 0, 0];
  let n = 0;
  for (let y = 0; y < img.height; y++) {
    for (let x = 0; x < img.width; x++) {
      if (x >= 2 && y >= 2 && x < img.width - 2 && y < img.height - 2) continue;
      for (let c = 0; c < 3; c++) sum[c] = (sum[c] as number) + (img.data[(y * img.width + x) * 3 + c] as number);
      n++;
    }
  }
  return sum.map((v) => v / n);
}

function dist(a: number[], b: number[]): number {
  return Math.hypot(...a.map((v, i) => v - (b[i] as number)));
}
