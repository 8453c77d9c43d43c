import { request as httpRequest } from 'node:http';
import { fitToSide, Gate, type MigeModel } from '@mige/pipelines';
import { boxReduce } from '@mige/pipelines/internal';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer } from '../src/server/index.js';
import { JobQueue } from '../src/server/job-queue.js';
import { CONTENT_SECURITY_POLICY, hostName, SECURITY_HEADERS } from '../src/server/security.js';
import { validateJobRequest } from '../src/server/validate-request.js';
import { DEFAULT_LIMITS } from '../src/server/limits.js';
import type { JobAccepted } from '../src/api/api-types.js';
import { dataUrl, noiseImage, tinyModel } from './helpers.js';

describe('playground API: who may call it', () => {
  let model: MigeModel;
  let app: FastifyInstance;
  let lan: FastifyInstance;
  let small: string;
  beforeAll(async () => {
    model = await tinyModel();
    app = await createServer({ model });
    lan = await createServer({ model, allowedHosts: ['mige.lan'], allowedOrigins: ['https://mige.example.com'] });
    small = await dataUrl(noiseImage(8, 8));
  });
  afterAll(async () => {
    await app.close();
    await lan.close();
    model.dispose();
  });

  const get = (server: FastifyInstance, url: string, headers: Record<string, string>) => server.inject({ method: 'GET', url, headers });
  const job = (headers: Record<string, string>, extra: Record<string, unknown> = {}) =>
    app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': 'application/json', ...headers }, payload: JSON.stringify({ flow: 'edit', instruction: 'make <imagehere> blue', images: [small], steps: 1, ...extra }) });

  it('answers the loopback names, with any port', async () => {
    for (const host of ['localhost:5173', '127.0.0.1:5173', '[::1]:5173', 'LOCALHOST', '127.0.0.1']) {
      expect([host, (await get(app, '/api/info', { host })).statusCode]).toEqual([host, 200]);
    }
  });

  it('refuses any other Host, as a DNS-rebinding page would send it, before any route runs', async () => {
    for (const host of ['attacker.example:5173', 'attacker.example', '192.168.1.20:5173', 'localhost.attacker.example', '[::2]:5173']) {
      const res = await get(app, '/api/info', { host });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ error: string }>().error).toBe(`host '${hostName(host)}' is not allowed (allowed: localhost, 127.0.0.1, ::1); start the server with --allow-host ${hostName(host)} to serve that name`);
    }
    // Not even a job: the rebinding page's POST is refused the same way.
    expect((await job({ host: 'attacker.example:5173', origin: 'http://attacker.example:5173' })).statusCode).toBe(403);
    expect((await get(app, '/', { host: 'attacker.example' })).statusCode).toBe(403);
  });

  it('answers the names it is configured with', async () => {
    expect((await get(lan, '/api/info', { host: 'mige.lan:5173' })).statusCode).toBe(200);
    expect((await get(lan, '/api/info', { host: 'other.lan:5173' })).statusCode).toBe(403);
  });

  it('takes API calls from its own origin only (or a configured one)', async () => {
    const own = await job({ host: 'localhost:5173', origin: 'http://localhost:5173' });
    expect(own.statusCode, own.body).toBe(202);
    await app.inject({ method: 'DELETE', url: `/api/jobs/${own.json<JobAccepted>().id}` });
    for (const origin of ['http://attacker.example', 'http://localhost:3000', 'null', 'http://127.0.0.1:5173', 'not a url']) {
      const res = await job({ host: 'localhost:5173', origin });
      expect([origin, res.statusCode, res.json<{ error: string }>().error]).toEqual([origin, 403, `origin '${origin}' may not call this API: only pages served by this playground may`]);
    }
    expect((await get(lan, '/api/info', { host: 'mige.lan', origin: 'https://mige.example.com' })).statusCode).toBe(200);
  });

  it('refuses cross-site and same-site browser requests to the API (Sec-Fetch-Site), not navigations to the page', async () => {
    for (const site of ['cross-site', 'same-site']) {
      const res = await get(app, '/api/info', { host: 'localhost:5173', 'sec-fetch-site': site });
      expect(res.statusCode).toBe(403);
      expect(res.json<{ error: string }>().error).toBe(`a ${site} request may not call this API: only pages served by this playground may`);
    }
    for (const site of ['same-origin', 'none']) expect((await get(app, '/api/info', { host: 'localhost:5173', 'sec-fetch-site': site })).statusCode).toBe(200);
    // This server has no UI: a 404, but not a refusal.
    expect((await get(app, '/', { host: 'localhost:5173', 'sec-fetch-site': 'cross-site' })).statusCode).toBe(404);
  });

  it('refuses bodies a cross-site form could send without a preflight (text/plain, form encoding)', async () => {
    for (const type of ['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const res = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': type }, payload: '{"flow":"edit"}' });
      expect([type, res.statusCode, res.json<{ error: string }>().error]).toEqual([type, 415, 'send the request body as application/json']);
    }
  });

  it('refuses a body in another charset than UTF-8', async () => {
    for (const charset of ['utf-16', 'UTF-16LE', 'latin1', '"iso-8859-1"']) {
      const res = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': `application/json; charset=${charset}` }, payload: '{}' });
      expect([charset, res.statusCode, res.json<{ error: string }>().error]).toEqual([charset, 415, `send the request body as UTF-8 JSON (charset=${charset.replace(/"/g, '')} is not accepted)`]);
    }
    for (const charset of ['utf-8', 'UTF8']) {
      const res = await app.inject({ method: 'POST', url: '/api/jobs', headers: { 'content-type': `application/json; charset=${charset}` }, payload: '{}' });
      expect(res.statusCode).toBe(400);
    }
  });

  it('sends the security headers on every answer: JSON, errors, refusals and event streams', async () => {
    const answers = [
      await get(app, '/api/info', {}),
      await get(app, '/api/nothing', {}),
      await get(app, '/api/info', { host: 'attacker.example' }),
      await job({}, { steps: 0 }),
    ];
    expect(answers.map((a) => a.statusCode)).toEqual([200, 404, 403, 400]);
    for (const answer of answers) {
      for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect([answer.statusCode, name, answer.headers[name]]).toEqual([answer.statusCode, name, value]);
    }
    expect(CONTENT_SECURITY_POLICY).toContain("frame-ancestors 'none'");
    expect(CONTENT_SECURITY_POLICY).toContain("script-src 'self'");
    // The event stream is written on the raw response: it carries them too.
    const accepted = (await job({ host: 'localhost' }, { steps: 1 })).json<JobAccepted>();
    const base = await app.listen({ host: '127.0.0.1', port: 0 });
    const headers = await new Promise<Record<string, string | string[] | undefined>>((resolve, reject) => {
      const req = httpRequest(`${base}/api/jobs/${accepted.id}/events`, (res) => {
        resolve(res.headers);
        res.destroy();
      });
      req.on('error', reject);
      req.end();
    });
    expect(headers['content-type']).toBe('text/event-stream; charset=utf-8');
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) expect([name, headers[name]]).toEqual([name, value]);
  });
});

const MIB = 2 ** 20;

describe('admission: the queue holds small images', () => {
  it('brings the shorter side down to the model size, keeping the aspect; smaller images stay as they are', () => {
    const wide = fitToSide(noiseImage(400, 100), 32);
    expect([wide.width, wide.height]).toEqual([128, 32]);
    const tall = fitToSide(noiseImage(90, 300), 30);
    expect([tall.width, tall.height]).toEqual([30, 100]);
    const small = noiseImage(20, 40);
    expect(fitToSide(small, 32)).toBe(small);
  });

  it('box-reduces by whole blocks first (edge blocks partial), as PIL\'s reduce', () => {
    const data = new Uint8Array(5 * 3 * 3);
    for (let y = 0; y < 3; y++) for (let x = 0; x < 5; x++) data.set([x + 10 * y, 0, 255], (y * 5 + x) * 3);
    const r = boxReduce({ width: 5, height: 3, data }, 2);
    expect([r.width, r.height]).toEqual([3, 2]);
    // Means of {0, 1, 10, 11}, {2, 3, 12, 13}, {4, 14}, {20, 21}, {22, 23}, {24}, rounded.
    expect(Array.from(r.data)).toEqual([6, 0, 255, 8, 0, 255, 9, 0, 255, 21, 0, 255, 23, 0, 255, 24, 0, 255]);
  });

  it('decodes a request\'s images already fitted', async () => {
    const big = await dataUrl(noiseImage(256, 128));
    const spec = await validateJobRequest({ flow: 'edit', instruction: 'make <imagehere> blue', images: [big] }, DEFAULT_LIMITS, undefined, { fitSide: 32 });
    expect(spec.images.map((i) => [i.width, i.height])).toEqual([[64, 32]]);
    expect(spec.cancelOnDisconnect).toBe(true);
  });

  it('a gate runs one task at a time, in order, whatever fails', async () => {
    const gate = new Gate();
    const log: string[] = [];
    let inside = 0;
    const task = (name: string, fail = false) => async () => {
      inside++;
      expect(inside).toBe(1);
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      inside--;
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([gate.run(task('a')), gate.run(task('b', true)), gate.run(task('c'))]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect(log).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  });

  it('the queue refuses a job whose images would pass its byte budget, and takes it once room is made', async () => {
    let release: (() => void) | undefined;
    const queue = new JobQueue<{ bytes: number }>(
      () => new Promise((resolve) => (release = () => resolve({ type: 'error', message: 'released' }))),
      { maxQueue: 10, maxBytes: 100 * MIB, sizeOf: (s) => s.bytes },
    );
    queue.submit({ bytes: 60 * MIB });
    expect(() => queue.submit({ bytes: 60 * MIB })).toThrow('the queue holds 60.0 MiB of images and this job needs 60.0 MiB, over the limit of 100.0 MiB: try again when one has finished');
    expect(() => queue.submit({ bytes: 40 * MIB })).not.toThrow();
    await new Promise((r) => setImmediate(r));
    release?.();
    await new Promise((r) => setTimeout(r, 10));
    expect(() => queue.submit({ bytes: 60 * MIB })).not.toThrow();
  });
});
