import * as zlib from 'node:zlib';
import { solidPng } from '../builders/png.js';

/**
 * Requests to a running playground (`mige-playground --model mige-tiny`): each must be answered
 * with the expected status and a specific error, within the time budget, while the server's
 * resident memory stays under the limit and it keeps answering.
 */
export interface HttpCase {
  id: string;
  method: 'GET' | 'POST' | 'DELETE';
  path: string;
  headers?: Record<string, string>;
  body?: string | Buffer;
  expect: { status: number; error?: RegExp };
}

const PNG = (w: number, h: number): string => `data:image/png;base64,${solidPng(w, h).toString('base64')}`;

/** A PNG whose header claims `w`×`h` but carries one tiny row of data: a decompression-bomb header. */
function lyingPng(w: number, h: number): string {
  const png = solidPng(1, 1);
  png.writeUInt32BE(w, 16);
  png.writeUInt32BE(h, 20);
  // Fix the IHDR CRC so the header itself is well-formed.
  png.writeUInt32BE(zlib.crc32(png.subarray(12, 29)) >>> 0, 29);
  return `data:image/png;base64,${png.toString('base64')}`;
}

const job = (extra: Record<string, unknown>, images: string[] = [PNG(16, 16)]): string =>
  JSON.stringify({ flow: 'edit', instruction: 'make <imagehere> blue', images, steps: 1, cancelOnDisconnect: true, ...extra });

const post = (id: string, body: string | Buffer, status: number, error?: RegExp, headers: Record<string, string> = {}): HttpCase => ({
  id: `http/${id}`,
  method: 'POST',
  path: '/api/jobs',
  headers: { 'content-type': 'application/json', ...headers },
  body,
  expect: { status, ...(error ? { error } : {}) },
});

export function httpCases(): HttpCase[] {
  return [
    { id: 'http/info', method: 'GET', path: '/api/info', expect: { status: 200 } },
    { id: 'http/host-rebinding', method: 'GET', path: '/api/info', headers: { host: 'attacker.example:5173' }, expect: { status: 403, error: /host 'attacker.example' is not allowed/ } },
    { id: 'http/host-ip', method: 'GET', path: '/api/info', headers: { host: '10.0.0.8' }, expect: { status: 403, error: /host '10.0.0.8' is not allowed/ } },
    { id: 'http/origin-other-site', method: 'GET', path: '/api/info', headers: { origin: 'http://attacker.example' }, expect: { status: 403, error: /origin 'http:\/\/attacker.example' may not call this API/ } },
    { id: 'http/origin-null', method: 'GET', path: '/api/info', headers: { origin: 'null' }, expect: { status: 403, error: /origin 'null' may not call this API/ } },
    { id: 'http/sec-fetch-cross-site', method: 'GET', path: '/api/info', headers: { 'sec-fetch-site': 'cross-site' }, expect: { status: 403, error: /a cross-site request may not call this API/ } },
    post('rebinding-post', job({}), 403, /host 'attacker.example' is not allowed/, { host: 'attacker.example', origin: 'http://attacker.example' }),
    post('charset-utf16', job({}), 415, /charset=utf-16 is not accepted/, { 'content-type': 'application/json; charset=utf-16' }),
    post('text-plain', job({}), 415, /send the request body as application\/json/, { 'content-type': 'text/plain' }),
    post('form-urlencoded', 'flow=edit', 415, /send the request body as application\/json/, { 'content-type': 'application/x-www-form-urlencoded' }),
    post('not-json', '{"flow": ', 400, /the request body is not valid JSON/),
    post('empty-body', '', 400, /the request body is empty/),
    post('array-body', '[]', 400, /the request body must be a JSON object/),
    post('deep-json', `${'['.repeat(100_000)}${']'.repeat(100_000)}`, 400, /the request body must be a JSON object|not valid JSON/),
    post('proto-key', '{"__proto__": {"flow": "edit"}, "flow": "edit"}', 400, /prototype|not valid JSON|unknown field/),
    post('constructor-prototype', '{"constructor": {"prototype": {"x": 1}}, "flow": "edit"}', 400, /prototype|not valid JSON|unknown field/),
    post('body-33MB', Buffer.alloc(33 * 1024 * 1024, 0x20), 413, /the request body is over the limit/),
    post('unknown-field', job({ model: 'mige-xl' }), 400, /unknown field\(s\) model/),
    post('flow-constructor', job({ flow: 'constructor' }), 400, /flow must be one of generate, edit, compose, got "constructor"/),
    post('flow-to-string', job({ flow: 'toString' }), 400, /flow must be one of/),
    post('sampler-constructor', job({ sampler: 'constructor' }), 400, /sampler must be one of dpm-solver, ddim, ddpm, got "constructor"/),
    post('steps-1e9', job({ steps: 1e9 }), 400, /steps must be an integer from 1 to 200, got 1000000000/),
    post('steps-negative', job({ steps: -1 }), 400, /steps must be an integer from 1 to 200/),
    post('steps-string', job({ steps: '3' }), 400, /steps must be an integer/),
    post('seed-2^40', job({ seed: 2 ** 40 }), 400, /seed must be an integer from 0 to 4294967295/),
    post('num-images-100', job({ numImages: 100 }), 400, /numImages must be an integer from 1 to 4/),
    post('scale-infinite', '{"flow":"edit","instruction":"make <imagehere> blue","images":[],"scales":{"y":1e400}}', 400, /scales.y must be a number|edit takes exactly one image/),
    post('scales-proto', job({ scales: { toString: 1 } }), 400, /unknown scale 'toString'/),
    post('instruction-10k', job({ instruction: `make <imagehere> ${'blue '.repeat(2000)}` }), 400, /instruction is \d+ characters, over the limit of 1000/),
    post('instruction-number', job({ instruction: 5 }), 400, /instruction must be a non-empty string/),
    post('cancel-on-disconnect-string', job({ cancelOnDisconnect: 'no' }), 400, /cancelOnDisconnect must be true or false, got "no"/),
    post('image-not-data-url', job({}, ['https://attacker.example/x.png']), 400, /must be a base64 data URL of a PNG or JPEG image/),
    post('image-svg', job({}, ['data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=']), 400, /must be a base64 data URL of a PNG or JPEG image/),
    post('image-garbage', job({}, ['data:image/png;base64,aGVsbG8gd29ybGQ=']), 400, /images\[0\]/),
    post('image-bomb-header', job({}, [lyingPng(100_000, 100_000)]), 400, /image width 100000 exceeds the limit maxWidth=4096/),
    post('image-17MP', job({}, [lyingPng(4096, 4096)]), 400, /over the limit maxPixels=16000000|cannot decode/),
    post('image-truncated', job({}, [`data:image/png;base64,${solidPng(64, 64).subarray(0, 60).toString('base64')}`]), 400, /images\[0\]/),
    post('image-over-6MiB', job({}, [`data:image/png;base64,${Buffer.alloc(7 * 1024 * 1024).toString('base64')}`]), 413, /images\[0\] is \d+ bytes, over the limit of 6291456 bytes per image/),
    post('five-images', JSON.stringify({ flow: 'generate', instruction: '<imagehere>'.repeat(5), images: new Array(5).fill(PNG(8, 8)) }), 400, /5 images were given: at most 4 per request/),
    post('image-4000px', job({}, [PNG(4000, 4000)]), 202),
    { id: 'http/job-unknown', method: 'GET', path: '/api/jobs/00000000-0000-0000-0000-000000000000', expect: { status: 404, error: /no job 00000000-0000-0000-0000-000000000000/ } },
    { id: 'http/job-proto', method: 'GET', path: '/api/jobs/__proto__', expect: { status: 404, error: /no job __proto__/ } },
    { id: 'http/delete-unknown', method: 'DELETE', path: '/api/jobs/constructor', expect: { status: 404, error: /no job constructor/ } },
    { id: 'http/events-unknown', method: 'GET', path: '/api/jobs/toString/events', expect: { status: 404, error: /no job toString/ } },
    { id: 'http/static-traversal', method: 'GET', path: '/../../../../etc/passwd', expect: { status: 404 } },
    { id: 'http/static-encoded-traversal', method: 'GET', path: '/%2e%2e/%2e%2e/etc/passwd', expect: { status: 404 } },
    { id: 'http/api-unknown', method: 'GET', path: '/api/admin', expect: { status: 404, error: /no (API )?route GET \/api\/admin/ } },
    { id: 'http/url-100KB', method: 'GET', path: `/api/info?${'x'.repeat(100_000)}`, expect: { status: 431 } },
  ];
}
