import type { RgbImage, Rng } from '@mige/core';
import { IMAGE_PLACEHOLDER as PLACEHOLDER } from '../format/types.js';
import { pick } from './scene.js';
import type { PatternName } from './shapes.js';
import type { WorldObject, WorldTask } from './types.js';


/**
 * Paraphrases per task. `{word}` is filled from the task's words; `[name]` is an image slot that
 * becomes `<imagehere>`, and the entity list follows the order the slots appear in, so a
 * paraphrase can put the source first or last without breaking placeholder-entity pairing.
 */
export const TEMPLATES: Record<WorldTask, readonly string[]> = {
  subject: [
    'a photo of {parts} on {abg} background',
    '{parts}, on a plain {bg} background',
    'generate an image of {parts} against {abg} background',
    'show {parts} on {abg} background',
  ],
  recolor: [
    'make the {old} {shape} {new} in [src]',
    '[src] change the colour of the {shape} from {old} to {new}',
    'in [src], recolour the {old} {shape} to {new}',
    'turn the {shape} in [src] {new}',
  ],
  remove: [
    'remove the {color} {shape} from [src]',
    '[src] delete the {shape}',
    'take the {shape} out of [src]',
    'in [src], get rid of the {color} {shape}',
  ],
  add: [
    'add {desc} {where} of [src]',
    '[src] put {desc} {where}',
    'in [src], draw {desc} {where}',
    'place {desc} {where} in [src]',
  ],
  move: [
    'move the {shape} in [src] to the {region}',
    '[src] shift the {color} {shape} to the {region}',
    'in [src], put the {shape} at the {region} instead',
    'relocate the {shape} of [src] to the {region}',
  ],
  resize: [
    'make the {shape} in [src] {bigger}',
    '[src] make the {color} {shape} {bigger}',
    'in [src], resize the {shape} so it is {bigger}',
    'scale the {shape} in [src] so it looks {bigger}',
  ],
  background: [
    'change the background of [src] to {color}',
    '[src] make the background plain {color}',
    'in [src], replace the background with a {color} one',
    'give [src] a solid {color} background',
  ],
  compose_add: [
    'add [subj] {rel} the {anchor} in [src]',
    'put [subj] {rel} the {anchor} in [src]',
    'in [src], place [subj] {rel} the {anchor}',
    '[src] insert [subj] {rel} the {anchor}',
  ],
  compose_replace: [
    'replace the {shape} in [src] with [subj]',
    'in [src], swap the {shape} for [subj]',
    '[src] replace the {color} {shape} with [subj]',
    'substitute [subj] for the {shape} in [src]',
  ],
};

/** Subject-driven generation onto a given source (ExampleOptions.subjectOnSource). */
export const SUBJECT_ON_SOURCE_TEMPLATES: readonly string[] = [
  'put {parts} in [src]',
  'in [src], add {parts}',
  '[src] place {parts}',
  'add {parts} to [src]',
];

/** "a yellow" / "an orange": the indefinite article for a following word. */
export function withArticle(word: string): string {
  return `${/^[aeiou]/.test(word) ? 'an' : 'a'} ${word}`;
}

export interface FilledTemplate {
  instruction: string;
  entities: RgbImage[];
}

export function fillTemplate(
  template: string,
  words: Record<string, string>,
  images: Record<string, RgbImage>,
): FilledTemplate {
  const entities: RgbImage[] = [];
  const instruction = template
    .replace(/\{(\w+)\}/g, (_, k: string) => {
      const w = words[k];
      if (w === undefined) throw new Error(`template word '${k}' missing`);
      return w;
    })
    .replace(/\[(\w+)\]/g, (_, k: string) => {
      const img = images[k];
      if (!img) throw new Error(`template image '${k}' missing`);
      entities.push(img);
      return PLACEHOLDER;
    });
  return { instruction, entities };
}

export function chooseTemplate(rng: Rng, task: WorldTask, templates: readonly string[] = TEMPLATES[task]): string {
  return pick(rng, templates);
}

const PATTERN_WORDS: Record<PatternName, string> = { solid: '', stripes: 'striped ', dots: 'dotted ', checks: 'checked ' };

/** "a small red striped star": what an added object looks like, in words. */
export function describeObject(obj: WorldObject, canvas: number): string {
  const size = obj.size < canvas * 0.25 ? 'small ' : obj.size > canvas * 0.3 ? 'large ' : '';
  const words = `${size}${obj.color} ${PATTERN_WORDS[obj.pattern]}${obj.shape}`;
  return withArticle(words);
}
