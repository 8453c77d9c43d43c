import { request as httpRequest, type IncomingMessage } from 'node:http';
import { createRgbImage, encodeImage, initBackend, Rng, type RgbImage } from '@mige/core';
import { MIGE_TINY, MigeModel } from '@mige/pipelines';
import type { JobEvent } from '../src/api/api-types.js';

/** mige-tiny with random weights on wasm: 32 px, fast enough for real jobs in tests. */
export async function tinyModel(): Promise<MigeModel> {
  await initBackend({ backend: 'wasm', log: null });
  return MigeModel.create(MIGE_TINY, { seed: 0 });
}

/** An image of uniform noise (compresses badly: its PNG size grows with its area). */
export function noiseImage(width: number, height: number, seed = 1): RgbImage {
  const rng = new Rng(seed);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < data.length; i++) data[i] = rng.int(0, 256);
  return createRgbImage(width, height, data);
}

export async function dataUrl(img: RgbImage, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<string> {
  return `data:image/${format};base64,${(await encodeImage(img, format)).toString('base64')}`;
}

/** A live SSE connection: every event so far, and a promise for the next one matching. */
export interface EventStream {
  events: JobEvent[];
  waitFor(predicate: (e: JobEvent) => boolean, timeoutMs?: number): Promise<JobEvent>;
  /** Drops the connection as a closing browser tab would. */
  disconnect(): void;
  ended: Promise<void>;
}

export function openEvents(baseUrl: string, id: string): Promise<EventStream> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${baseUrl}/api/jobs/${id}/events`, (res: IncomingMessage) => {
      if (res.statusCode !== 200) return reject(new Error(`events: HTTP ${res.statusCode}`));
      const events: JobEvent[] = [];
      const waiters: { predicate: (e: JobEvent) => boolean; resolve: (e: JobEvent) => void }[] = [];
      let buffer = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          const data = block.split('\n').find((l) => l.startsWith('data: '));
          if (!data) continue;
          const event = JSON.parse(data.slice(6)) as JobEvent;
          events.push(event);
          for (const w of [...waiters]) {
            if (w.predicate(event)) {
              waiters.splice(waiters.indexOf(w), 1);
              w.resolve(event);
            }
          }
        }
      });
      const ended = new Promise<void>((r) => res.on('close', () => r()));
      resolve({
        events,
        ended,
        disconnect: () => req.destroy(),
        waitFor(predicate, timeoutMs = 30_000) {
          const seen = events.find(predicate);
          if (seen) return Promise.resolve(seen);
          return new Promise((res2, rej2) => {
            const timer = setTimeout(() => rej2(new Error(`no matching event in ${timeoutMs} ms; got ${events.map((e) => e.type).join(', ')}`)), timeoutMs);
            waiters.push({ predicate, resolve: (e) => (clearTimeout(timer), res2(e)) });
          });
        },
      });
    });
    req.on('error', reject);
    req.end();
  });
}

export { eventually } from '@mige/core/testing';
