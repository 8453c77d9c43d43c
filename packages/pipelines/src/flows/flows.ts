import { assertRgbImage, MigeInputError, type RgbImage } from '@mige/core';
import { countPlaceholders } from '@mige/encoder';
import type { MigeModel } from '../model/index.js';
import { placeSourceInInstruction } from './edit-instruction.js';
import type { FlowItem, InstructionImage } from './prepare.js';
import { expandItems, resolveOptions, runFlow } from './run-flow.js';
import type { ComposeRequest, EditRequest, FlowName, FlowOptions, FlowResult, GenerateRequest } from './types.js';

function asList<R>(request: R | readonly R[], flow: string): readonly R[] {
  const list = Array.isArray(request) ? (request as readonly R[]) : [request as R];
  if (list.length === 0) throw new MigeInputError('expected at least one request', flow);
  return list;
}

function checkInstruction(r: { instruction?: unknown }, where: string): string {
  if (typeof r !== 'object' || r === null) throw new MigeInputError('a request must be an object', where);
  if (typeof r.instruction !== 'string' || r.instruction.trim() === '') throw new MigeInputError('instruction must be a non-empty string', where);
  return r.instruction;
}

function checkImage(img: unknown, where: string): RgbImage {
  assertRgbImage(img as RgbImage, where);
  return img as RgbImage;
}

function checkPlaceholders(text: string, expected: number, what: string, where: string): void {
  const n = countPlaceholders(text);
  if (n !== expected) throw new MigeInputError(`the instruction has ${n} <imagehere> but ${what}`, where);
}

/** A flow call checked and expanded: its resolved options and one item per image to make. */
export interface FlowPlan {
  flow: FlowName;
  opts: ReturnType<typeof resolveOptions>;
  items: FlowItem[];
}

/** Checks a generate call and expands it into items (what `generate` runs). */
export function planGenerate(model: MigeModel, request: GenerateRequest | readonly GenerateRequest[], options: FlowOptions = {}): FlowPlan {
  const opts = resolveOptions(model, 'generate', options);
  const list = asList(request, 'generate');
  const items = expandItems(list, opts.numImages, opts.seed, (r) => {
    const where = `generate request ${list.indexOf(r)}`;
    const text = checkInstruction(r, where);
    if (!Array.isArray(r.images)) throw new MigeInputError('images must be an array of RGB images', where);
    const images = r.images.map((img, j) => checkImage(img, `${where} images[${j}]`));
    checkPlaceholders(text, images.length, `${images.length} image(s) were given`, where);
    return { text, task: 'subject', images: images.map((image): InstructionImage => ({ image, fit: 'pad' })), source: null };
  });
  return { flow: 'generate', opts, items };
}

/** Checks an edit call and expands it into items (what `edit` runs). */
export function planEdit(model: MigeModel, request: EditRequest | readonly EditRequest[], options: FlowOptions = {}): FlowPlan {
  const opts = resolveOptions(model, 'edit', options);
  const list = asList(request, 'edit');
  const items = expandItems(list, opts.numImages, opts.seed, (r) => {
    const where = `edit request ${list.indexOf(r)}`;
    const text = placeSourceInInstruction(checkInstruction(r, where));
    const source = checkImage(r.source, `${where} source`);
    checkPlaceholders(text, 1, 'an edit instruction refers to its source image once', where);
    return { text, task: 'edit', images: [{ image: source, fit: 'crop', isSource: true }], source };
  });
  return { flow: 'edit', opts, items };
}

/** Checks a compose call and expands it into items (what `compose` runs). */
export function planCompose(model: MigeModel, request: ComposeRequest | readonly ComposeRequest[], options: FlowOptions = {}): FlowPlan {
  const opts = resolveOptions(model, 'compose', options);
  const list = asList(request, 'compose');
  const items = expandItems(list, opts.numImages, opts.seed, (r) => {
    const where = `compose request ${list.indexOf(r)}`;
    const text = checkInstruction(r, where);
    const source = checkImage(r.source, `${where} source`);
    if (!Array.isArray(r.subjects) || r.subjects.length === 0) throw new MigeInputError('subjects must be a non-empty array of RGB images', where);
    const subjects: InstructionImage[] = r.subjects.map((img, j) => ({ image: checkImage(img, `${where} subjects[${j}]`), fit: 'crop' }));
    const n = countPlaceholders(text);
    if (n === subjects.length) return { text, task: 'compose', images: subjects, source };
    checkPlaceholders(text, subjects.length + 1, `${subjects.length} subject(s) were given (expected one per subject, or one more for the source)`, where);
    const slot = r.sourceSlot ?? 0;
    if (!Number.isInteger(slot) || slot < 0 || slot > subjects.length) throw new MigeInputError(`sourceSlot must be an integer in [0, ${subjects.length}], got ${slot}`, where);
    const images = [...subjects];
    images.splice(slot, 0, { image: source, fit: 'crop', isSource: true });
    return { text, task: 'compose', images, source };
  });
  return { flow: 'compose', opts, items };
}

function run(model: MigeModel, plan: FlowPlan, options: FlowOptions): Promise<FlowResult> {
  return runFlow(model, plan.flow, plan.items, options, plan.opts);
}

/** Subject-driven generation: zero conditional input, guidance "subject" (2 branches). */
export async function generate(model: MigeModel, request: GenerateRequest | readonly GenerateRequest[], options: FlowOptions = {}): Promise<FlowResult> {
  return run(model, planGenerate(model, request, options), options);
}

/** Instruction-based editing: the source is the conditional input and the instruction's image; guidance "edit" (3 branches). */
export async function edit(model: MigeModel, request: EditRequest | readonly EditRequest[], options: FlowOptions = {}): Promise<FlowResult> {
  return run(model, planEdit(model, request, options), options);
}

/** Instruction-based subject-driven editing (add / replace): source latent as conditional input, subjects in the instruction. */
export async function compose(model: MigeModel, request: ComposeRequest | readonly ComposeRequest[], options: FlowOptions = {}): Promise<FlowResult> {
  return run(model, planCompose(model, request, options), options);
}
