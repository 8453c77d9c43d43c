import { PLACEHOLDER } from '../api/api-types.js';

/** The instruction as the editor holds it: text runs and images at their placeholder positions. */
export type Segment = { kind: 'text'; text: string } | { kind: 'image'; id: string };

export function imageIds(segments: readonly Segment[]): string[] {
  return segments.flatMap((s) => (s.kind === 'image' ? [s.id] : []));
}

/** Segments → the instruction text with one `<imagehere>` per image. */
export function instructionText(segments: readonly Segment[]): string {
  return segments
    .map((s) => (s.kind === 'text' ? s.text : PLACEHOLDER))
    .join('')
    .replace(/\s+/g, ' ')
    .trim();
}

/** An instruction with placeholders + its image ids (in order) → segments. */
export function toSegments(instruction: string, ids: readonly string[]): Segment[] {
  const parts = instruction.split(PLACEHOLDER);
  const out: Segment[] = [];
  parts.forEach((text, i) => {
    if (text) out.push({ kind: 'text', text });
    const id = ids[i];
    if (i < parts.length - 1 && id) out.push({ kind: 'image', id });
  });
  return out;
}
