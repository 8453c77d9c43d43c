import type sharpDefault from 'sharp';
import { optionalImport } from './optional-import.js';

/** sharp's default export: the `sharp(input, options)` factory. */
export type Sharp = typeof sharpDefault;

/**
 * sharp (libvips, 17 MB with its binaries) decodes and encodes image files. It is an optional
 * peer of @mige/core, loaded on the first decode / encode, so core's tensors, modules and weights
 * IO install without it; @mige/pipelines and @mige/data depend on it.
 */
const load = optionalImport<Sharp>('sharp', (m) => ((m as { default?: Sharp }).default ?? m) as Sharp);

export function loadSharp(): Promise<Sharp> {
  return load((why) => `reading or writing image files needs sharp, which ${why}: install it with "npm install sharp@^0.34.5"`);
}
