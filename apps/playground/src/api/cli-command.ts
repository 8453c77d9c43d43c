import type { FlowName, SamplerName } from './api-types.js';

/** What the UI knows about a run, to write the `mige` command that makes the same images. */
export interface CliCommandInput {
  flow: FlowName;
  instruction: string;
  /** File names the user saves the instruction's images under, in placeholder order. */
  imageFiles: string[];
  /** Which image is the source (edit / compose). */
  sourceSlot?: number;
  /** `--model` value; null: the default model (flag left out). */
  model: string | null;
  steps: number;
  scales: { y: number; s: number };
  seed: number;
  numImages: number;
  sampler: SamplerName;
  out?: string;
}

/** POSIX shell quoting: bare when safe, else single quotes. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9_@%+=:,./-]+$/.test(value)) return value;
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** The equivalent `mige generate | edit | compose ...` command line. */
export function cliCommand(input: CliCommandInput): string {
  const args: string[] = ['mige', input.flow];
  if (input.model !== null) args.push('--model', input.model);
  args.push('-i', input.instruction);
  const slot = input.sourceSlot ?? 0;
  if (input.flow === 'generate') {
    for (const file of input.imageFiles) args.push('--image', file);
  } else if (input.flow === 'edit') {
    args.push('--source', input.imageFiles[0] ?? 'source.png');
  } else {
    args.push('--source', input.imageFiles[slot] ?? 'source.png');
    for (const [i, file] of input.imageFiles.entries()) if (i !== slot) args.push('--subject', file);
    args.push('--source-slot', String(slot));
  }
  args.push('--steps', String(input.steps), '--scale-y', String(input.scales.y));
  if (input.flow !== 'generate') args.push('--scale-s', String(input.scales.s));
  args.push('--seed', String(input.seed));
  if (input.numImages !== 1) args.push('-n', String(input.numImages));
  if (input.sampler !== 'dpm-solver') args.push('--sampler', input.sampler);
  args.push('-o', input.out ?? 'out.png');
  return args.map(shellQuote).join(' ');
}
