import { IMAGE_PLACEHOLDER } from '@mige/encoder';

/** Phrases MIGE_edit_infer.py turns into the source image's placeholder. */
export const SOURCE_PHRASES: readonly string[] = ['the image', 'this image', 'this photo', 'the photo', 'the picture', 'this picture'];

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * MIGE_edit_infer.py's `update_instruction` for a plain-text edit: "the image" (and its
 * synonyms, with the spaces around them) becomes ` <imagehere> `; without any of them the
 * placeholder is appended as ` in<imagehere>` after stripping trailing dots. Instructions that
 * already hold a placeholder are returned unchanged.
 */
export function placeSourceInInstruction(instruction: string): string {
  if (instruction.includes(IMAGE_PLACEHOLDER)) return instruction;
  let out = instruction;
  for (const phrase of SOURCE_PHRASES) {
    out = out.replace(new RegExp(`\\s*${escapeRegExp(phrase)}\\s*`, 'gi'), ` ${IMAGE_PLACEHOLDER} `);
  }
  if (!out.includes(IMAGE_PLACEHOLDER)) out = `${out.replace(/\.+$/, '')} in${IMAGE_PLACEHOLDER}`;
  return out;
}
