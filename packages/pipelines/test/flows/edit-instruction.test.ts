import { describe, expect, it } from 'vitest';
import { placeSourceInInstruction } from '../../src/flows/index.js';

describe("the reference edit script's update_instruction", () => {
  it.each([
    ['Make the sky in the image pink.', 'Make the sky in <imagehere> pink.'],
    ['Turn THIS PHOTO into a painting', 'Turn <imagehere> into a painting'],
    ['add a hat...', 'add a hat in<imagehere>'],
    ['remove the dog', 'remove the dog in<imagehere>'],
    ['put <imagehere> in winter', 'put <imagehere> in winter'],
  ])('%j → %j', (input, expected) => expect(placeSourceInInstruction(input)).toBe(expected));
});
