import { realpath } from 'node:fs/promises';
import { resolve } from 'node:path';
import { decodeImage, DEFAULT_IMAGE_LIMITS, MigeInputError, type ImageLimits, type RgbImage } from '@mige/core';
import { resolveInsideRoot } from './resolve-path.js';
import { IMAGE_PLACEHOLDER, type MigeRecord } from './types.js';

export interface ValidateOptions {
  /** Bounds for every image decoded, and for the declared width/height. Core's defaults if unset. */
  limits?: ImageLimits;
  /** Decode every image (default true). Off, files are only checked to exist inside the root. */
  decode?: boolean;
}

/** A record whose paths are resolved (real, absolute) and checked. */
export interface ResolvedRecord {
  record: MigeRecord;
  target: string;
  source: string | null;
  entities: string[];
}

export type RecordCheck = { ok: true; resolved: ResolvedRecord } | { ok: false; reasons: string[] };

export function countPlaceholders(instruction: string): number {
  return instruction.split(IMAGE_PLACEHOLDER).length - 1;
}

/** The root's realpath, or a MigeInputError: a missing root is a config error, not a bad record. */
export async function realRoot(root: string): Promise<string> {
  try {
    return await realpath(resolve(root));
  } catch {
    throw new MigeInputError('dataset root does not exist', root);
  }
}

async function tryDecode(path: string, field: string, limits: ImageLimits): Promise<{ img?: RgbImage; reason?: string }> {
  try {
    return { img: await decodeImage(path, { ...limits, label: field }) };
  } catch (err) {
    return { reason: err instanceof Error ? err.message : String(err) };
  }
}

/**
 * Checks one record against the files under `root`; collects every problem, not only the first,
 * so a bad dataset can be fixed in one pass.
 */
export async function checkRecord(record: MigeRecord, root: string, rootReal: string, opts: ValidateOptions = {}): Promise<RecordCheck> {
  const reasons: string[] = [];
  const limits = opts.limits ?? {};
  const decode = opts.decode ?? true;
  const maxW = limits.maxWidth ?? DEFAULT_IMAGE_LIMITS.maxWidth;
  const maxH = limits.maxHeight ?? DEFAULT_IMAGE_LIMITS.maxHeight;

  if (record.multi_prompt.trim() === '') reasons.push('multi_prompt (the instruction) is empty');
  const placeholders = countPlaceholders(record.multi_prompt);
  if (placeholders !== record.entity_path.length) {
    reasons.push(`multi_prompt has ${placeholders} ${IMAGE_PLACEHOLDER} placeholder(s) but entity_path has ${record.entity_path.length} path(s)`);
  }
  for (const [key, value, max] of [['width', record.width, maxW], ['height', record.height, maxH]] as const) {
    if (!Number.isSafeInteger(value) || value < 1 || value > max) reasons.push(`${key} ${value} must be an integer in [1, ${max}]`);
  }

  const check = async (p: string, field: string): Promise<{ path?: string; img?: RgbImage }> => {
    const r = await resolveInsideRoot(root, rootReal, p, field);
    if (!r.ok) {
      reasons.push(r.reason);
      return {};
    }
    if (!decode) return { path: r.path };
    const d = await tryDecode(r.path, `${field} "${p}"`, limits);
    if (d.reason) reasons.push(d.reason);
    return { path: r.path, img: d.img };
  };

  const target = await check(record.image, 'image');
  if (target.img && (target.img.width !== record.width || target.img.height !== record.height)) {
    reasons.push(`width x height ${record.width}x${record.height} does not match the target image's ${target.img.width}x${target.img.height}`);
  }
  const source = record.source_path === '' ? { path: null } : await check(record.source_path, 'source_path');
  const entities: string[] = [];
  for (let i = 0; i < record.entity_path.length; i++) {
    const e = await check(record.entity_path[i] as string, `entity_path[${i}]`);
    if (e.path) entities.push(e.path);
  }
  if (reasons.length > 0) return { ok: false, reasons };
  return { ok: true, resolved: { record, target: target.path as string, source: source.path ?? null, entities } };
}
