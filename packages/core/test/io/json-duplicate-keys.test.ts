import { describe, expect, it } from 'vitest';
import { findDuplicateJsonKey } from '../../src/io/json-duplicate-keys.js';

describe('findDuplicateJsonKey', () => {
  it('finds repeats at any depth and reports where', () => {
    expect(findDuplicateJsonKey('{"a": 1, "a": 2}')).toEqual({ key: 'a', path: [] });
    expect(findDuplicateJsonKey('{"t": {"shape": [1], "shape": [2]}}')).toEqual({ key: 'shape', path: ['t'] });
    expect(findDuplicateJsonKey('{"l": [{"x": 1}, {"y": 1, "y": 2}]}')).toEqual({ key: 'y', path: ['l', '[]'] });
    expect(findDuplicateJsonKey('{"\\u00e9": 1, "é": 2}')).toEqual({ key: 'é', path: [] });
  });

  it('has no false positives', () => {
    const cases = [
      '{"a": {"a": {"a": 1}}}', // same key in different objects
      '{"a": "a", "b": ["a", "a"]}', // values equal to keys
      '{"x": "}{\\"x\\": ,", "y": 1}', // braces, quotes and commas inside strings
      '{"a": 1, "A": 2, "a ": 3}',
      '{"t": {"dtype": "F32"}, "u": {"dtype": "F32"}}',
      '[{"a": 1}, {"a": 1}]',
      '{}',
    ];
    for (const json of cases) {
      JSON.parse(json); // all valid JSON
      expect(findDuplicateJsonKey(json), json).toBeUndefined();
    }
  });
});
