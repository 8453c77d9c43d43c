import { describe, expect, it } from 'vitest';
import { cliCommand, shellQuote } from '../src/api/cli-command.js';

const base = { steps: 60, scales: { y: 5, s: 1 }, seed: 0, numImages: 1, sampler: 'dpm-solver' as const, model: 'mige-tiny' };

describe('the equivalent mige command', () => {
  it('quotes for a POSIX shell', () => {
    expect(shellQuote('out.png')).toBe('out.png');
    expect(shellQuote('make <imagehere> blue')).toBe("'make <imagehere> blue'");
    expect(shellQuote("it's")).toBe("'it'\\''s'");
  });

  it('generate: one --image per subject, no source scale', () => {
    expect(cliCommand({ ...base, flow: 'generate', instruction: '<imagehere> on grass', imageFiles: ['dog.png'], steps: 50, scales: { y: 7, s: 1 }, seed: 12, numImages: 2 })).toBe(
      "mige generate --model mige-tiny -i '<imagehere> on grass' --image dog.png --steps 50 --scale-y 7 --seed 12 -n 2 -o out.png",
    );
  });

  it('edit: the source image, the default model without --model, a non-default sampler', () => {
    expect(cliCommand({ ...base, model: null, flow: 'edit', instruction: 'turn the cross in <imagehere> purple', imageFiles: ['edit-1-source.png'], sampler: 'ddim' })).toBe(
      "mige edit -i 'turn the cross in <imagehere> purple' --source edit-1-source.png --steps 60 --scale-y 5 --scale-s 1 --seed 0 --sampler ddim -o out.png",
    );
  });

  it('compose: the source from its slot, the others as subjects in order', () => {
    expect(cliCommand({ ...base, model: '/models/my model', flow: 'compose', instruction: 'put <imagehere> above the cross in <imagehere>', imageFiles: ['cat.png', 'park.png'], sourceSlot: 1, scales: { y: 4.5, s: 1.25 } })).toBe(
      "mige compose --model '/models/my model' -i 'put <imagehere> above the cross in <imagehere>' --source park.png --subject cat.png --source-slot 1 --steps 60 --scale-y 4.5 --scale-s 1.25 --seed 0 -o out.png",
    );
  });
});
