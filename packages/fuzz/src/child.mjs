// One fuzz case in its own process: `node child.mjs '<FuzzTarget JSON>'`. It imports what the
// target needs, prints {"ready":true} (the parent's time budget starts there), runs the loader
// and prints one JSON report: accepted, refused (a MigeInputError) or crashed (anything else).
// Plain JavaScript so it starts without a build step or a TypeScript loader.
import { performance } from 'node:perf_hooks';

const spec = JSON.parse(process.argv[2] ?? '{}');

/** Loads the modules a target needs, returns the function that runs it. */
async function prepare(target, path, options) {
  switch (target) {
    case 'pth': {
      // The whole state dict (readPthStateDict's total budget), then the plain-data tree.
      const { PthReader, readPthStateDict } = await import('@mige/core');
      return () => {
        const tensors = readPthStateDict(path, options);
        const reader = PthReader.open(path, options);
        try {
          reader.tree();
        } finally {
          reader.close();
        }
        return { tensors: tensors.size, elements: [...tensors.values()].reduce((n, t) => n + t.data.length, 0) };
      };
    }
    case 'safetensors': {
      const { readSafetensors } = await import('@mige/core');
      return () => {
        const tensors = readSafetensors(path, options);
        return { tensors: tensors.size, elements: [...tensors.values()].reduce((n, t) => n + t.data.length, 0) };
      };
    }
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
      throw new Error(`unknown target ${target}`);
  }
}

function report(value) {
  process.stdout.write(`${JSON.stringify({ ...value, maxRssKb: process.resourceUsage().maxRSS })}\n`);
}

const run = await prepare(spec.target, spec.path, spec.options ?? {});
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
  const name = e.constructor?.name ?? 'Error';
  const times = elapsed();
  if (name === 'MigeInputError') report({ outcome: 'refused', name, message: e.message, ...times });
  else report({ outcome: 'crashed', name, message: e.message, stack: e.stack ?? '', ...times });
}
