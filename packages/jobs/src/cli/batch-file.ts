import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MigeInputError } from '@mige/core';
import { MigeRequestTooLargeError, type RequestLimits } from '@mige/pipelines';
import type { EnqueueRequest } from '../producer.js';
import { isStoreRef } from '../store.js';

/** Largest requests file read (its images are files beside it, so lines are short). */
export const MAX_BATCH_FILE_BYTES = 256 * 1024 * 1024;
const OUTPUT_ID = /^[A-Za-z0-9_.-]{1,100}$/;

/** One request line of a `mige batch` file. */
export interface BatchLine {
  /** Names the outputs: `<id>.png` (or `<id>-<k>.png`) and `<id>.json`. */
  id: string;
  /** 1-based line number in the file. */
  line: number;
  /** The request as written (image fields as written: paths, data URLs or store references). */
  request: Record<string, unknown>;
  /** The queue's job id: the same for the same line and output folder, so a rerun finds its jobs. */
  jobId: string;
}

/**
 * Reads a JSONL file of requests: one FlowRequest per line (blank lines skipped), with an
 * optional `id` naming its outputs (default: its line number). MigeInputError naming the line.
 */
export async function readBatchFile(path: string, outDir: string): Promise<BatchLine[]> {
  let size: number;
  try {
    size = (await stat(path)).size;
  } catch {
    throw new MigeInputError('no such file', `--in ${path}`);
  }
  if (size > MAX_BATCH_FILE_BYTES) throw new MigeInputError(`is ${size} bytes, over the limit of ${MAX_BATCH_FILE_BYTES}: split it`, `--in ${path}`);
  const text = await readFile(path, 'utf8');
  const rows = text.split('\n');
  const width = String(rows.length).length;
  const out = resolve(outDir);
  const seen = new Set<string>();
  const lines: BatchLine[] = [];
  rows.forEach((raw, i) => {
    if (raw.trim() === '') return;
    const where = `${path}:${i + 1}`;
    let parsed: unknown;
    try {
      parsed = JSON.parse(raw);
    } catch (e) {
      throw new MigeInputError(`not valid JSON: ${e instanceof Error ? e.message : String(e)}`, where);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new MigeInputError('each line must be a JSON object (a request)', where);
    const { id: rawId, ...request } = parsed as Record<string, unknown>;
    const id = rawId === undefined ? String(i + 1).padStart(width, '0') : rawId;
    if (typeof id !== 'string' || !OUTPUT_ID.test(id)) throw new MigeInputError(`id must be 1-100 letters, digits, '_', '.' or '-', got ${JSON.stringify(id)}`, where);
    if (seen.has(id)) throw new MigeInputError(`id ${id} is used twice: outputs would overwrite each other`, where);
    seen.add(id);
    const jobId = `batch-${createHash('sha256').update(`${out}\0${id}\0${raw}`).digest('hex').slice(0, 32)}`;
    lines.push({ id, line: i + 1, request, jobId });
  });
  return lines;
}

/**
 * The request with its image file paths (relative to the requests file) read as bytes; data
 * URLs and store references pass as they are. The image count is checked before any file is
 * read (as the validator counts them), and each file's size before it is read.
 */
export async function withImageBytes(entry: BatchLine, batchFile: string, limits: Pick<RequestLimits, 'maxImageBytes' | 'maxImages'>): Promise<EnqueueRequest> {
  const { maxImageBytes, maxImages } = limits;
  const count = (Array.isArray(entry.request.images) ? entry.request.images.length : 0) + (entry.request.source !== undefined && entry.request.source !== null ? 1 : 0);
  if (count > maxImages) throw new MigeInputError(`${count} images were given: at most ${maxImages} per request`, `line ${entry.line}`);
  const base = dirname(resolve(batchFile));
  const read = async (value: unknown, field: string): Promise<unknown> => {
    if (typeof value !== 'string' || value.startsWith('data:') || isStoreRef(value)) return value;
    const path = isAbsolute(value) ? value : join(base, value);
    const where = `line ${entry.line} ${field} ${value}`;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch {
      throw new MigeInputError('no such image file', where);
    }
    if (size > maxImageBytes) throw new MigeRequestTooLargeError(`is ${size} bytes, over the limit of ${maxImageBytes} bytes per image`, where);
    return new Uint8Array(await readFile(path));
  };
  const request = { ...entry.request };
  if (Array.isArray(request.images)) request.images = await Promise.all(request.images.map((img: unknown, k) => read(img, `images[${k}]`)));
  if (request.source !== undefined && request.source !== null) request.source = await read(request.source, 'source');
  return request as unknown as EnqueueRequest;
}
