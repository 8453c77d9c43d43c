import { describe, expect, it } from 'vitest';
import { parseRatios, parseWorldTasks } from '../../src/cli/commands/train.js';

describe('train weights', () => {
  it('--ratios: named groups get their weight, the rest 0', () => {
    expect(parseRatios('subject=1,edit=2.5')).toEqual({ subject: 1, edit: 2.5, add: 0, replace: 0 });
    expect(() => parseRatios('subject=0')).toThrow(/--ratios.*every weight is 0/);
    expect(() => parseRatios('edits=1')).toThrow(/"edits=1" is not task=weight/);
  });

  it('--world-tasks: named world tasks get their weight, the rest keep 1', () => {
    expect(parseWorldTasks('add=3,move=0')).toEqual({
      subject: 1, recolor: 1, remove: 1, add: 3, move: 0, resize: 1, background: 1, compose_add: 1, compose_replace: 1,
    });
    expect(() => parseWorldTasks('add=-1')).toThrow(/--world-tasks.*"add=-1" is not task=weight/);
    expect(() => parseWorldTasks('add=1=2')).toThrow(/"add=1=2" is not task=weight/);
  });
});
