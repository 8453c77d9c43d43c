import { createRgbImage, MigeInputError, type RgbImage } from '@mige/core';
import { describe, expect, it } from 'vitest';
import { DEFAULT_REQUEST_LIMITS, Gate, validateFlowRequest, type RequestImageReader } from '../../src/index.js';

const edit = (extra: Record<string, unknown> = {}) => ({ flow: 'edit', instruction: 'make <imagehere> blue', images: ['a'], steps: 2, ...extra });

/** An image reader that records how many reads overlap, each read taking a few ms. */
function slowReader(size: [number, number] = [8, 8]): { read: RequestImageReader; maxInside: () => number; fields: string[] } {
  let inside = 0;
  let max = 0;
  const fields: string[] = [];
  const read: RequestImageReader = async (_value, field) => {
    inside++;
    max = Math.max(max, inside);
    fields.push(field);
    await new Promise((r) => setTimeout(r, 5));
    inside--;
    return createRgbImage(size[0], size[1], new Uint8Array(size[0] * size[1] * 3).fill(100));
  };
  return { read, maxInside: () => max, fields };
}

describe('validateFlowRequest options', () => {
  it("refuses a caller's own field unless it is named in extraFields, and lists it as known then", async () => {
    const e = await validateFlowRequest(edit({ cancelOnDisconnect: false }), DEFAULT_REQUEST_LIMITS).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MigeInputError);
    expect((e as Error).message).toBe('unknown field(s) cancelOnDisconnect (known: flow, instruction, images, source, sourceSlot, steps, scales, seed, numImages, sampler)');
    const { read } = slowReader();
    const job = await validateFlowRequest(edit({ cancelOnDisconnect: false }), DEFAULT_REQUEST_LIMITS, undefined, { readImage: read, extraFields: ['cancelOnDisconnect'] });
    expect(job.options.steps).toBe(2);
    expect(Object.hasOwn(job, 'cancelOnDisconnect')).toBe(false);
    const other = await validateFlowRequest(edit({ colour: 1 }), DEFAULT_REQUEST_LIMITS, undefined, { readImage: read, extraFields: ['cancelOnDisconnect'] }).catch((x: unknown) => x);
    expect((other as Error).message).toBe('unknown field(s) colour (known: flow, instruction, images, source, sourceSlot, steps, scales, seed, numImages, sampler, cancelOnDisconnect)');
  });

  it('fits each image to fitSide as it is read (shorter side, aspect kept)', async () => {
    const { read } = slowReader([120, 40]);
    const job = await validateFlowRequest(
      { flow: 'compose', instruction: 'put <imagehere> in <imagehere>', images: ['a', 'b'] },
      DEFAULT_REQUEST_LIMITS,
      undefined,
      { readImage: read, fitSide: 20 },
    );
    expect(job.images.map((i: RgbImage) => [i.width, i.height])).toEqual([
      [60, 20],
      [60, 20],
    ]);
  });

  it('decodes one image at a time across concurrent requests by default; a gate of its own per request does not', async () => {
    const shared = slowReader();
    const request = { flow: 'compose', instruction: 'put <imagehere> in <imagehere>', images: ['a', 'b'] };
    await Promise.all([1, 2, 3].map(() => validateFlowRequest(request, DEFAULT_REQUEST_LIMITS, undefined, { readImage: shared.read })));
    expect([shared.fields.length, shared.maxInside()]).toEqual([6, 1]);
    const own = slowReader();
    await Promise.all([1, 2, 3].map(() => validateFlowRequest(request, DEFAULT_REQUEST_LIMITS, undefined, { readImage: own.read, gate: new Gate() })));
    expect([own.fields.length, own.maxInside()]).toEqual([6, 3]);
  });

  it('checks every setting before reading any image', async () => {
    const { read, fields } = slowReader();
    await expect(validateFlowRequest(edit({ steps: 0 }), DEFAULT_REQUEST_LIMITS, undefined, { readImage: read })).rejects.toThrow('steps must be an integer from 1 to 200, got 0');
    expect(fields).toEqual([]);
  });
});
