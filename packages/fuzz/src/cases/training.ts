import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FuzzCase, FuzzExpect } from '../case.js';
import { MIGE_CLI } from '../run-case.js';

/** The settings of the template run every case starts from (2 steps of mige-tiny on 8 world examples). */
export const TRAIN_ARGS = ['--model', 'mige-tiny', '--world', '8', '--batch-size', '2', '--lr', '0.001', '--checkpoint-every', '2', '--log', 'jsonl'];

let template: string | undefined;

/** A finished 2-step run, made once per process and copied into each case. */
function templateRun(): string {
  if (template && existsSync(join(template, 'latest.json'))) return template;
  const dir = join(mkdtempSync(join(tmpdir(), 'mige-fuzz-run-')), 'run');
  const made = spawnSync(process.execPath, [MIGE_CLI, 'train', ...TRAIN_ARGS, '--steps', '2', '--out', dir], { encoding: 'utf8' });
  if (made.status !== 0) throw new Error(`the template run failed: ${made.stderr}`);
  template = dir;
  return dir;
}

function runCopy(dir: string): string {
  const out = join(dir, 'run');
  cpSync(templateRun(), out, { recursive: true });
  return out;
}

const refused = (r: RegExp): FuzzExpect => ({ refused: r });

function trainCase(id: string, expect: FuzzExpect, prepare: (dir: string) => string[]): FuzzCase {
  return { id: `training/${id}`, cls: 'training', expect, make: (dir) => ({ kind: 'cli', argv: ['train', ...prepare(dir)] }) };
}

/** Resume the template run with `changed` options (name, value pairs) replacing its own, plus `flags`. */
const resume = (dir: string, changed: string[] = [], flags: string[] = []): string[] => {
  const args = [...TRAIN_ARGS];
  for (let i = 0; i < changed.length; i += 2) {
    const at = args.indexOf(changed[i] as string);
    if (at >= 0) args.splice(at, 2);
    args.push(changed[i] as string, changed[i + 1] as string);
  }
  return [...args, ...flags, '--steps', '2', '--out', runCopy(dir), '--resume'];
};

export function trainingCases(): FuzzCase[] {
  return [
    trainCase('resume-unchanged', { accepted: true }, (dir) => resume(dir)),
    trainCase('resume-lr-changed', refused(/resuming at step 2 with settings that differ from the checkpoint's \(lr 0\.001 -> 0\.002\)/), (dir) => resume(dir, ['--lr', '0.002'])),
    trainCase('resume-batch-changed', refused(/\(batchSize 2 -> 4\)/), (dir) => resume(dir, ['--batch-size', '4'])),
    trainCase('resume-seed-changed', refused(/\(seed 0 -> 5\)/), (dir) => resume(dir, ['--seed', '5'])),
    trainCase('resume-data-changed', refused(/dataset \{.*\} -> \{.*\}/), (dir) => resume(dir, ['--world', '12'])),
    trainCase('resume-changes-allowed', { accepted: true }, (dir) => resume(dir, ['--lr', '0.002'], ['--allow-changes'])),
    trainCase('resume-bookkeeping-changed', { accepted: true }, (dir) => resume(dir, ['--log-every', '5', '--checkpoint-every', '7'])),
    trainCase('new-run-over-old', refused(/holds a run \(its latest.json is at step 2\): pass --resume/), (dir) => [...TRAIN_ARGS, '--steps', '2', '--out', runCopy(dir)]),
    trainCase('latest-garbage', refused(/latest.json: not valid JSON/), (dir) => {
      const args = resume(dir);
      writeFileSync(join(dir, 'run', 'latest.json'), '{"step": 2, "pa');
      return args;
    }),
    trainCase('latest-names-missing-folder', refused(/latest.json: names step-00000009, which does not exist/), (dir) => {
      const args = resume(dir);
      writeFileSync(join(dir, 'run', 'latest.json'), '{"step":9,"path":"step-00000009"}');
      return args;
    }),
    trainCase('latest-escapes-run', refused(/latest.json names "..\/..\/..\/..\/etc", not a step-XXXXXXXX folder of this run/), (dir) => {
      const args = resume(dir);
      writeFileSync(join(dir, 'run', 'latest.json'), '{"step":2,"path":"../../../../etc"}');
      return args;
    }),
    trainCase('state-garbage', refused(/state.json: not a training state/), (dir) => {
      const args = resume(dir);
      writeFileSync(join(dir, 'run', 'step-00000002', 'state.json'), '[1,2');
      return args;
    }),
    trainCase('state-config-invalid', refused(/the checkpoint's training config is invalid: .*batchSize must be an integer >= 1, got -3/), (dir) => {
      const args = resume(dir);
      const file = join(dir, 'run', 'step-00000002', 'state.json');
      const state = JSON.parse(readFileSync(file, 'utf8')) as { config: { batchSize: number } };
      state.config.batchSize = -3;
      writeFileSync(file, JSON.stringify(state));
      return args;
    }),
    trainCase('checkpoint-weights-truncated', refused(/model.safetensors: /), (dir) => {
      const args = resume(dir);
      const file = join(dir, 'run', 'step-00000002', 'model.safetensors');
      writeFileSync(file, readFileSync(file).subarray(0, 5000));
      return args;
    }),
    trainCase('out-under-a-file', refused(/cannot create the run folder: a part of the path is not a folder/), (dir) => {
      writeFileSync(join(dir, 'file'), '');
      return [...TRAIN_ARGS, '--steps', '1', '--out', join(dir, 'file', 'run')];
    }),
    trainCase('out-is-a-file', refused(/is not a folder: training needs a folder|a part of the path is not a folder|already exists/), (dir) => {
      writeFileSync(join(dir, 'file'), '');
      return [...TRAIN_ARGS, '--steps', '1', '--out', join(dir, 'file')];
    }),
    trainCase('data-line-2MB', refused(/line 1: the line is over the limit of 1048576 bytes/), (dir) => {
      writeFileSync(join(dir, 'd.jsonl'), `{"image":"${'a'.repeat(2_000_000)}"}\n`);
      return ['--model', 'mige-tiny', '--data', join(dir, 'd.jsonl'), '--out', join(dir, 'run'), '--steps', '1'];
    }),
    trainCase('data-missing', refused(/dataset file not found/), (dir) => ['--model', 'mige-tiny', '--data', join(dir, 'none.jsonl'), '--out', join(dir, 'run'), '--steps', '1']),
    trainCase('data-folder', refused(/is not a regular file/), (dir) => {
      mkdirSync(join(dir, 'd.jsonl'));
      return ['--model', 'mige-tiny', '--data', join(dir, 'd.jsonl'), '--out', join(dir, 'run'), '--steps', '1'];
    }),
    trainCase('world-zero', refused(/--world/), (dir) => ['--model', 'mige-tiny', '--world', '0', '--out', join(dir, 'run')]),
    trainCase('steps-not-a-number', refused(/--steps/), (dir) => ['--model', 'mige-tiny', '--world', '4', '--steps', 'many', '--out', join(dir, 'run')]),
    trainCase('ratios-constructor', refused(/"constructor=1" is not task=weight/), (dir) => ['--model', 'mige-tiny', '--world', '4', '--ratios', 'constructor=1', '--out', join(dir, 'run')]),
    trainCase('world-tasks-proto', refused(/"__proto__=2" is not task=weight/), (dir) => ['--model', 'mige-tiny', '--world', '4', '--world-tasks', '__proto__=2', '--out', join(dir, 'run')]),
    trainCase('workers-1000', refused(/--workers/), (dir) => ['--model', 'mige-tiny', '--world', '4', '--workers', '1000', '--out', join(dir, 'run')]),
    trainCase('lr-negative', refused(/--lr/), (dir) => ['--model', 'mige-tiny', '--world', '4', '--lr', '-1', '--out', join(dir, 'run')]),
  ];
}
