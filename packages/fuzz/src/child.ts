/**
 * One fuzz case in its own process: `node dist/child.js '<FuzzTarget JSON>'`. It imports what the
 * target needs, prints {"ready":true} (the watchdog's budget starts there), runs the loader and
 * prints one JSON report: accepted, refused (a MigeInputError) or crashed (anything else).
 *
 * Bundled by tsup with core's weight readers taken from source, so a loader case starts without
 * tfjs (a third of a second a process); the dataset and model targets import their packages.
 */
import { performance } from 'node:perf_hooks';
import { PthReader, readPthStateDict } from '../../core/src/io/pth.js';
import { readSafetensors } from '../../core/src/io/safetensors-reader.js';
import type { FuzzTarget } from './case.js';

type LibTarget = Extract<FuzzTarget, { kind: 'lib' }>;

const elements = (tensors: Map<string, { data: { length: number } }>): number => [...tensors.values()].reduce((n, t) => n + t.data.length, 0);

/** Loads what a target needs; returns the function that runs it. */
async function prepare({ target, path, options = {} }: LibTarget): Promise<() => unknown> {
  switch (target) {
    case 'pth':
      // The whole state dict (readPthStateDict's total budget), then the plain-data tree.
      return () => {
        const tensors = readPthStateDict(path, options);
        const reader = PthReader.open(path, options);
        try {
          reader.tree();
        } finally {
          reader.close();
        }
        return { tensors: tensors.size, elements: elements(tensors) };
      };
    case 'safetensors':
      return () => {
        const tensors = readSafetensors(path, options);
        return { tensors: tensors.size, elements: elements(tensors) };
      };
    case 'dataset': {
      const { loadDataset } = await import('@mige/data');
      return async () => {
        const loaded = await loadDataset(path, options);
        return { records: loaded.records.length, skipped: loaded.skipped.map((s) => `${s.line ?? s.index}: ${s.reason.slice(0, 200)}`) };
      };
    }
    case 'model-config': {
      const { readModelConfig } = await import('@mige/pipelines');
      return () => ({ name: readModelConfig(path).name });
    }
    case 'model': {
      const { initBackend } = await import('@mige/core');
      const { loadModel } = await import('@mige/pipelines');
      await initBackend({ backend: 'wasm', log: null });
      return () => {
        const model = loadModel(path);
        const name = model.config.name;
        model.dispose();
        return { name };
      };
    }
    default:
      throw new Error(`unknown target ${String(target)}`);
  }
}

function report(value: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...value, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

const spec = JSON.parse(process.argv[2] ?? '{}') as LibTarget;
const run = await prepare(spec);
process.stdout.write('{"ready":true}\n');
const t0 = performance.now();
const c0 = process.cpuUsage();
const elapsed = () => {
  const c = process.cpuUsage(c0);
  return { ms: performance.now() - t0, cpuMs: (c.user + c.system) / 1000 };
};
try {
  const detail = await run();
  report({ outcome: 'accepted', detail, ...elapsed() });
} catch (error) {
  const e = error instanceof Error ? error : new Error(String(error));
  // By name: the bundled readers carry their own copy of the MigeInputError class.
  const name = e.name === 'MigeInputError' || e.constructor?.name === 'MigeInputError' ? 'MigeInputError' : (e.constructor?.name ?? 'Error');
  if (name === 'MigeInputError') report({ outcome: 'refused', name, message: e.message, ...elapsed() });
  else report({ outcome: 'crashed', name, message: e.message, stack: e.stack ?? '', ...elapsed() });
}
