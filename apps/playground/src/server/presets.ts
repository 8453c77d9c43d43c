import { encodeImage, type RgbImage } from '@mige/core';
import { generateExample, type WorldExample, type WorldTask } from '@mige/data';
import type { Preset, PresetExample, PresetId, FlowName } from '../api/api-types.js';
import { pngDataUrl } from './data-url.js';

interface PresetSpec {
  id: PresetId;
  label: string;
  flow: FlowName;
  description: string;
  tasks: WorldTask[];
}

const PRESETS: readonly PresetSpec[] = [
  { id: 'generate', label: 'Generate', flow: 'generate', description: 'Subject-driven generation: put the subject image on a new canvas.', tasks: ['subject', 'subject', 'subject'] },
  { id: 'edit', label: 'Edit', flow: 'edit', description: 'Instruction-based editing of the source image.', tasks: ['recolor', 'remove', 'background'] },
  { id: 'add', label: 'Add', flow: 'compose', description: 'Add the subject image to the source image.', tasks: ['compose_add', 'compose_add', 'compose_add'] },
  { id: 'replace', label: 'Replace', flow: 'compose', description: 'Replace an object in the source image with the subject image.', tasks: ['compose_replace', 'compose_replace', 'compose_replace'] },
];

/** Fixed so that every visit shows the same examples. */
export const PRESET_SEED = 20250;

/** The synthetic world draws 32..128 px scenes: the model's size, clamped into that range. */
function worldSize(imageSize: number): number {
  return Math.min(128, Math.max(32, imageSize));
}

/** Preset example `index` of a preset with `task`: a fixed world example. */
function worldExample(task: WorldTask, index: number, size: number): WorldExample {
  return generateExample(PRESET_SEED, index, { task, size });
}

async function example(task: WorldTask, index: number, size: number): Promise<PresetExample> {
  const ex = worldExample(task, index, size);
  const urls = async (images: readonly RgbImage[]) => Promise.all(images.map(async (img) => pngDataUrl(await encodeImage(img, 'png'))));
  const slot = ex.source ? ex.entities.indexOf(ex.source) : -1;
  const [images, [target]] = await Promise.all([urls(ex.entities), urls([ex.target])]);
  return { task, instruction: ex.instruction, images, ...(slot >= 0 ? { sourceSlot: slot } : {}), target: target as string };
}

/** The four presets with ready examples from the synthetic world at the model's image size. */
export async function buildPresets(imageSize: number): Promise<Preset[]> {
  const size = worldSize(imageSize);
  return Promise.all(
    PRESETS.map(async ({ tasks, ...p }) => ({ ...p, examples: await Promise.all(tasks.map((task, i) => example(task, i, size))) })),
  );
}

/** The world examples behind the presets, in the order the playground shows them (what a test runs the default model on). */
export function presetWorldExamples(imageSize: number): { id: PresetId; flow: FlowName; example: WorldExample }[] {
  const size = worldSize(imageSize);
  return PRESETS.flatMap(({ id, flow, tasks }) => tasks.map((task, i) => ({ id, flow, example: worldExample(task, i, size) })));
}
