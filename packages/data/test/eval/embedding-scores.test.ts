import type { RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { captionScene, copySourceModel, evaluate, groundTruthModel } from '../../src/eval/index.js';
import { generateExample } from '../../src/world/index.js';

/** A stand-in image encoder: the mean R, G, B of the image (real runs use ONNX CLIP / DINO). */
const meanColour = {
  embed: async (images: readonly RgbImage[]) =>
    images.map((img) => {
      const s = new Float32Array(3);
      for (let i = 0; i < img.data.length; i++) s[i % 3] = (s[i % 3] as number) + (img.data[i] as number);
      return s;
    }),
};
/** A stand-in text encoder: counts of three colour words (the same width as the image stand-in). */
const WORDS = ['red', 'green', 'blue'];
const wordCounts = {
  embed: async (texts: readonly string[]) => texts.map((t) => Float32Array.from(WORDS.map((w) => t.split(w).length - 1 + 0.01))),
};

describe('embedding metrics in evaluate', () => {
  const examples = Array.from({ length: 6 }, (_, i) => generateExample(11, i, { size: 32, task: 'recolor' }));

  it('captions name every object and the background', () => {
    const caption = captionScene(examples[0]!.annotations.target);
    for (const o of examples[0]!.annotations.target.objects) expect(caption).toContain(o.shape);
    expect(caption).toMatch(/ on an? \w+ background$/);
  });

  it('are 1 for the ground truth, lower for copy-source on recolour, and null without encoders', async () => {
    const embedders = { dino: meanColour, clipImage: meanColour, clipText: wordCounts };
    const gt = await evaluate({ examples, model: groundTruthModel, name: 'gt', embedders });
    expect(gt.report.overall.metrics.dino).toBeCloseTo(1, 6);
    expect(gt.report.overall.metrics.clipI).toBeCloseTo(1, 6);
    const copy = await evaluate({ examples, model: copySourceModel, name: 'copy', embedders });
    expect(copy.report.overall.metrics.dino as number).toBeLessThan(1 - 1e-6);
    // The output is the source: the image direction is zero, so CLIPdir is 0 by definition.
    expect(copy.report.overall.metrics.clipDir).toBe(0);
    expect(Number.isFinite(copy.report.overall.metrics.clipT as number)).toBe(true);
    const none = await evaluate({ examples, model: copySourceModel, name: 'none' });
    expect(none.report.overall.metrics.dino).toBeNull();
    expect(none.report.overall.metrics.clipDir).toBeNull();
  });
});
