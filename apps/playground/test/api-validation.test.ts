import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeImage, sniffImageFormat } from '@mige/core';
import { modelFlowDefaults, setSamplingDefaults, type MigeModel } from '@mige/pipelines';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, DEFAULT_LIMITS, parseEventStream } from '../src/server/index.js';
import { validateJobRequest } from '../src/server/validate-request.js';
import { countPlaceholders, type InfoResponse, type JobAccepted, type JobEvent, type PlaygroundLimits } from '../src/api/api-types.js';
import { dataUrl, noiseImage, tinyModel } from './helpers.js';

const LIMITS: Partial<PlaygroundLimits> = {
  maxBodyBytes: 64 * 1024,
  maxImageBytes: 4096,
  maxImageSide: 64,
  maxImagePixels: 2000,
  maxImages: 3,
  maxInstructionChars: 100,
  maxSteps: 40,
  maxNumImages: 2,
  maxScale: 20,
};

describe('playground API: info and request validation', () => {
  let model: MigeModel;
  let app: FastifyInstance;
  let small: string;
  beforeAll(async () => {
    model = await tinyModel();
    app = await createServer({ model, limits: LIMITS });
    small = await dataUrl(noiseImage(8, 8));
  });
  afterAll(async () => {
    await app.close();
    model.dispose();
  });

  const post = (body: unknown) => app.inject({ method: 'POST', url: '/api/jobs', payload: body as object });
  const edit = (extra: Record<string, unknown> = {}) => ({ flow: 'edit', instruction: 'make <imagehere> blue', images: [small], ...extra });

  it("serves the model's own sampling defaults (sampling.json) in info and for jobs that name none", async () => {
    const own = await tinyModel();
    setSamplingDefaults(own, { edit: { sampler: { type: 'ddpm' }, steps: 12, scales: { y: 2 } } });
    const server = await createServer({ model: own, limits: LIMITS });
    try {
      const info = (await server.inject({ method: 'GET', url: '/api/info' })).json<InfoResponse>();
      expect(info.defaults.edit).toEqual({ steps: 12, scales: { y: 2, s: 1 }, sampler: 'ddpm' });
      expect(info.defaults.compose).toEqual({ steps: 40, scales: { y: 5, s: 1 }, sampler: 'dpm-solver' });
      const spec = await validateJobRequest(edit(), { ...DEFAULT_LIMITS, ...LIMITS }, (flow) => modelFlowDefaults(own, flow));
      expect(spec.options).toMatchObject({ steps: 12, scales: { y: 2, s: 1 }, sampler: { type: 'ddpm' } });
      // The UI always names a sampler: one of the model's type runs with the model's maxTimestep
      // (the flows merge it), one of another type without it.
      setSamplingDefaults(own, { edit: { sampler: { type: 'dpm-solver', maxTimestep: 549 } } });
      const ranWith = async (sampler: string) => {
        const { id } = (await server.inject({ method: 'POST', url: '/api/jobs', payload: edit({ sampler, steps: 2 }) })).json<JobAccepted>();
        const done = parseEventStream((await server.inject({ method: 'GET', url: `/api/jobs/${id}/events` })).body).at(-1) as Extract<JobEvent, { type: 'done' }>;
        return done.params[0]?.sampler;
      };
      expect(await ranWith('dpm-solver')).toEqual({ type: 'dpm-solver', order: 2, skipType: 'time_uniform', maxTimestep: 549 });
      expect(await ranWith('ddim')).toEqual({ type: 'ddim', eta: 0 });
    } finally {
      await server.close();
      own.dispose();
    }
  });

  it('GET /api/info: model, limits and four presets of world examples at the model size', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/info' });
    expect(res.statusCode).toBe(200);
    const info = res.json<InfoResponse>();
    expect(info.model).toEqual({ name: 'mige-tiny', imageSize: 32, cliArg: 'mige-tiny' });
    expect(info.limits).toMatchObject(LIMITS);
    expect(info.defaults.edit).toEqual({ steps: 40, scales: { y: 5, s: 1 }, sampler: 'dpm-solver' }); // 60 capped at maxSteps
    expect(info.defaults.generate.scales.y).toBe(7);
    expect(info.samplers).toEqual(['dpm-solver', 'ddim', 'ddpm']);
    expect(info.presets.map((p) => [p.id, p.flow])).toEqual([
      ['generate', 'generate'],
      ['edit', 'edit'],
      ['add', 'compose'],
      ['replace', 'compose'],
    ]);
    expect(info.presets.map((p) => p.examples.map((e) => e.task))).toEqual([
      ['subject', 'subject', 'subject'],
      ['recolor', 'remove', 'background'],
      ['compose_add', 'compose_add', 'compose_add'],
      ['compose_replace', 'compose_replace', 'compose_replace'],
    ]);
    for (const preset of info.presets) {
      for (const ex of preset.examples) {
        expect(countPlaceholders(ex.instruction)).toBe(ex.images.length);
        expect(ex.sourceSlot === undefined).toBe(preset.flow === 'generate');
        for (const url of [...ex.images, ex.target]) {
          const bytes = Buffer.from(url.replace(/^data:image\/png;base64,/, ''), 'base64');
          expect(sniffImageFormat(bytes, 'example')).toBe('png');
          const img = await decodeImage(bytes);
          expect([img.width, img.height]).toEqual([32, 32]);
        }
      }
    }
    // Fixed seeds: the same examples on every start.
    const again = await createServer({ model });
    expect((await again.inject({ method: 'GET', url: '/api/info' })).json<InfoResponse>().presets).toEqual(info.presets);
    await again.close();
  });

  it.each([
    ['a body that is not an object', [1, 2], 400, /must be a JSON object/],
    ['an unknown field', { ...edit(), strength: 1 }, 400, /unknown field\(s\) strength/],
    ['an unknown flow', edit({ flow: 'inpaint' }), 400, /flow must be one of generate, edit, compose, got "inpaint"/],
    ['a missing instruction', edit({ instruction: undefined }), 400, /instruction must be a non-empty string/],
    ['a blank instruction', edit({ instruction: '   ' }), 400, /instruction must be a non-empty string/],
    ['an instruction over the length limit', edit({ instruction: `<imagehere> ${'x'.repeat(100)}` }), 400, /instruction is 112 characters, over the limit of 100/],
    ['images that are not an array', edit({ images: 'x' }), 400, /images must be an array/],
    ['too many images', { flow: 'generate', instruction: '<imagehere>'.repeat(4), images: [1, 2, 3, 4] }, 400, /4 images were given: at most 3 per request/],
    ['steps over the limit', edit({ steps: 41 }), 400, /steps must be an integer from 1 to 40, got 41/],
    ['zero steps', edit({ steps: 0 }), 400, /steps must be an integer from 1 to 40, got 0/],
    ['fractional steps', edit({ steps: 2.5 }), 400, /steps must be an integer/],
    ['numImages over the limit', edit({ numImages: 3 }), 400, /numImages must be an integer from 1 to 2, got 3/],
    ['a negative seed', edit({ seed: -1 }), 400, /seed must be an integer from 0 to 4294967295, got -1/],
    ['an unknown sampler', edit({ sampler: 'euler' }), 400, /sampler must be one of dpm-solver, ddim, ddpm, got "euler"/],
    ['a scale that is not a number', edit({ scales: { y: 'high' } }), 400, /scales.y must be a number from -20 to 20, got "high"/],
    ['a scale over the limit', edit({ scales: { s: 21 } }), 400, /scales.s must be a number from -20 to 20, got 21/],
    ['an unknown scale', edit({ scales: { z: 1 } }), 400, /unknown scale 'z'/],
    ['generate with fewer placeholders than images', { flow: 'generate', instruction: 'a photo of <imagehere>', images: [1, 2] }, 400, /the instruction has 1 <imagehere> but 2 image\(s\) were given/],
    ['generate with a source', { flow: 'generate', instruction: '<imagehere>', images: [1], sourceSlot: 0 }, 400, /generate takes no source or sourceSlot/],
    ['edit with two images', edit({ instruction: '<imagehere> <imagehere>', images: [1, 2] }), 400, /edit takes exactly one image, its source; got 2/],
    ['edit without an image', edit({ images: [] }), 400, /edit takes exactly one image, its source; got 0/],
    ['compose without a subject', { flow: 'compose', instruction: 'add a cat to <imagehere>', images: [1] }, 400, /compose needs a source and at least one subject: got 1/],
    ['compose with a source slot out of range', { flow: 'compose', instruction: 'put <imagehere> in <imagehere>', images: [1, 2], sourceSlot: 2 }, 400, /sourceSlot must be an integer from 0 to 1, got 2/],
  ])('rejects %s', async (_what, body, status, message) => {
    const res = await post(body);
    expect(res.statusCode).toBe(status);
    expect(res.json<{ error: string }>().error).toMatch(message);
  });

  it('rejects images that are not PNG or JPEG data URLs, corrupt, too big or too large, naming the image', async () => {
    const cases: [string, number, RegExp][] = [
      ['https://example.com/cat.png', 400, /images\[0\] must be a base64 data URL of a PNG or JPEG image/],
      [await dataUrl(noiseImage(8, 8), 'webp'), 400, /images\[0\] must be a base64 data URL of a PNG or JPEG/],
      // A WebP payload labelled PNG: the bytes decide.
      [`data:image/png;base64,${(await dataUrl(noiseImage(8, 8), 'webp')).split(',')[1]}`, 400, /images\[0\] is WEBP: only PNG and JPEG are accepted/],
      [`data:image/png;base64,${Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;').toString('base64')}`, 400, /images\[0\]: GIF images are not supported/],
      [`data:image/png;base64,${(await dataUrl(noiseImage(8, 8))).split(',')[1]?.slice(0, 60)}`, 400, /images\[0\]: (corrupt PNG header|cannot decode PNG)/],
      ['data:image/png;base64,', 400, /images\[0\] is an empty image/],
      // 40 × 40 noise: > 4096 bytes.
      [await dataUrl(noiseImage(40, 40)), 413, /images\[0\] is \d+ bytes, over the limit of 4096 bytes per image/],
      [await dataUrl(noiseImage(65, 4)), 400, /images\[0\]: image width 65 exceeds the limit maxWidth=64/],
      [await dataUrl(noiseImage(4, 65)), 400, /images\[0\]: image height 65 exceeds the limit maxHeight=64/],
      [await dataUrl(createFlat(50, 50)), 400, /images\[0\]: image is 50x50 = 2500 pixels, over the limit maxPixels=2000/],
    ];
    for (const [url, status, message] of cases) {
      const res = await post(edit({ images: [url] }));
      expect(res.statusCode, url.slice(0, 40)).toBe(status);
      expect(res.json<{ error: string }>().error).toMatch(message);
    }
    const jpeg = await post(edit({ images: [await dataUrl(noiseImage(8, 8), 'jpeg')], steps: 1 }));
    expect(jpeg.statusCode).toBe(202);
    const second = await post({ flow: 'compose', instruction: 'put <imagehere> in the scene', images: [small], source: 'nope' });
    expect(second.statusCode).toBe(400);
    expect(second.json<{ error: string }>().error).toMatch(/^source must be a base64 data URL/);
  });

  it('answers 413 for a body over the limit, 400 for malformed JSON, 415 for other content types', async () => {
    const big = await post(edit({ instruction: 'x'.repeat(70 * 1024) }));
    expect(big.statusCode).toBe(413);
    expect(big.json<{ error: string }>().error).toBe(`the request body is over the limit of ${64 * 1024} bytes`);
    const bad = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json' }, payload: '{"flow": "edit",' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: string }>().error).toMatch(/^the request body is not valid JSON/);
    const text = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/xml' }, payload: '<job/>' });
    expect(text.statusCode).toBe(415);
    expect(text.json<{ error: string }>().error).toBe('send the request body as application/json');
  });

  it('answers 404 for unknown jobs and API routes, and serves no UI without one', async () => {
    for (const [method, url] of [
      ['GET', '/api/jobs/nope'],
      ['DELETE', '/api/jobs/nope'],
      ['GET', '/api/jobs/nope/events'],
      ['GET', '/api/nothing'],
      ['GET', '/'],
      ['POST', '/api/nothing'],
    ] as const) {
      const res = await app.inject({ method, url });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
      expect(res.json<{ error: string }>().error).toBeTruthy();
    }
  });
});

describe('playground server: the built UI', () => {
  it('serves index.html for the app routes, hashed assets as immutable, and nothing outside its folder', async () => {
    const root = mkdtempSync(join(tmpdir(), 'playground-ui-'));
    const ui = join(root, 'ui');
    mkdirSync(join(ui, 'assets'), { recursive: true });
    writeFileSync(join(ui, 'index.html'), '<!doctype html><title>ui</title>');
    writeFileSync(join(ui, 'assets', 'index-abc.js'), 'console.log(1)');
    writeFileSync(join(root, 'secret.txt'), 'TOP-SECRET-CONTENT');
    const model = await tinyModel();
    const app = await createServer({ model, uiDir: ui });
    try {
      for (const url of ['/', '/some/app/route']) {
        const res = await app.inject({ method: 'GET', url });
        expect([res.statusCode, res.headers['content-type'], res.headers['cache-control'], res.body]).toEqual([200, 'text/html; charset=utf-8', 'no-cache', '<!doctype html><title>ui</title>']);
      }
      const js = await app.inject({ method: 'GET', url: '/assets/index-abc.js' });
      expect([js.statusCode, js.headers['content-type'], js.headers['cache-control']]).toEqual([200, 'text/javascript; charset=utf-8', 'public, max-age=31536000, immutable']);
      for (const url of ['/assets/missing.js', '/..%2fsecret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%E0%A4%A']) {
        const res = await app.inject({ method: 'GET', url });
        // Fastify itself answers 400 for a malformed escape.
        expect(res.statusCode, url).toBe(url.startsWith('/%E0') ? 400 : 404);
        expect(res.body).not.toContain('TOP-SECRET-CONTENT');
      }
    } finally {
      await app.close();
      model.dispose();
    }
  });
});

function createFlat(width: number, height: number) {
  return { width, height, data: new Uint8Array(width * height * 3).fill(200) };
}
