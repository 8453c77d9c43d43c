import { describe, expect, it } from 'vitest';
import { COMPOSE_TASK_PREFIX, EDIT_TASK_PREFIX, SUBJECT_TASK_PREFIX, buildPrompt, countPlaceholders, splitSegments } from '../../src/instruction/index.js';
import { t5Ids } from '../tokenizer/t5-fixture.js';

describe('MIGE prompts', () => {
  const cases = t5Ids().mige_get_context_emb_segments;

  it('has the 7 fixture prompts', () => expect(cases).toHaveLength(7));

  it.each(cases.map((c) => [c.kind, c.raw, c] as const))('%s prompt from raw %j', (kind, raw, c) => {
    const prompt = buildPrompt(raw, kind, 88);
    expect(prompt).toBe(c.prompt);
    expect(splitSegments(prompt)).toEqual(c.segments);
    expect(countPlaceholders(prompt)).toBe(c.num_images);
  });

  it('names the task prefixes MIGE uses', () => {
    expect(EDIT_TASK_PREFIX).toBe('Follow the instruction to edit the image:\n ');
    // The subject prefix is pre_captioned together with the text.
    expect(buildPrompt('', 'subject')).toBe(
      "follow the text instruction to generate an image with the given objects' images, preserving the subject's identity",
    );
    expect(SUBJECT_TASK_PREFIX.endsWith(':\n ')).toBe(true);
  });

  it('builds compose prompts as MIGEBench_infer.py: pre_caption over prefix + text', () => {
    expect(COMPOSE_TASK_PREFIX).toBe('Subject-driven editing:\n ');
    expect(buildPrompt('Add <imagehere> to the LEFT of the tree.', 'compose')).toBe(
      'subject-driven editing add <imagehere> to the left of the tree',
    );
  });

  it('splits like Python str.split, keeping empty segments', () => {
    expect(splitSegments('<imagehere><imagehere> x')).toEqual(['', '', ' x']);
    expect(splitSegments('')).toEqual(['']);
  });
});
