import { benchmarkSplit, DEFAULT_SPLIT_COUNTS, evaluate, splitExamples, WORLD_TASKS, writeReport, type WorldTask } from '@mige/data';
import { MigeInputError } from '@mige/core';
import { flowEvalModel } from '../../flows/index.js';
import { attachedOnnxDir } from '../../onnx/index.js';
import { num, parse, required, str } from '../args.js';
import { flowHelp, FLOW_OPTIONS, flowModelFromArgs, flowOptionsFromArgs, releaseFlowModel, startBackend } from '../common.js';
import type { Command } from '../io.js';

export const evalCommand: Command = {
  name: 'eval',
  summary: "score a model on @mige/data's synthetic-world benchmark",
  help: (argv) => `Usage: mige eval [--model <m>] --out <dir> [options]

Runs every case of the benchmark split through its flow (subject → generate, compose_* → compose,
the rest → edit) and writes report.json, report.md and grid.png (the first case of each task:
source, images, output, target) to --out. Both reports also count why the tasks that place an
object fail (right, wrong-size, not-moved, wrong-place, wrong-shape, colour-astray, absent).
  --out <dir>           report folder
  --count <n>           cases per task (default: the full split, 200-500 per task)
  --tasks <list>        comma-separated tasks (default all: ${WORLD_TASKS.join(', ')})
  --split-seed <n>      benchmark seed (default 0)
  --size <px>           canvas side of the cases (default 64)
${flowHelp('edit', argv).replace(/ {2}--out[^\n]*\n[^\n]*\n/, '').replace(/ {2}--background[^\n]*\n[^\n]*\n/, '')}`,
  async run(argv, io) {
    const v = parse(argv, { ...FLOW_OPTIONS, count: { type: 'string' }, tasks: { type: 'string' }, 'split-seed': { type: 'string' }, size: { type: 'string' } });
    const out = required(v, 'out');
    const modelArg = str(v, 'model');
    const count = num(v, 'count', { integer: true, min: 1 });
    const size = num(v, 'size', { integer: true, min: 32, max: 128 }) ?? 64;
    const seed = num(v, 'split-seed', { integer: true }) ?? 0;
    const tasks = (str(v, 'tasks')?.split(',').map((t) => t.trim()) ?? [...WORLD_TASKS]) as WorldTask[];
    for (const t of tasks) if (!WORLD_TASKS.includes(t)) throw new MigeInputError(`unknown task "${t}" (${WORLD_TASKS.join(', ')})`, '--tasks');
    const options = flowOptionsFromArgs(v, io);
    delete options.onStep;
    await startBackend(v);
    // Like the flow commands: a model folder with an onnx/ export runs on ONNX Runtime.
    const model = await flowModelFromArgs(v, modelArg);
    try {
      const split = benchmarkSplit({ seed, size, counts: Object.fromEntries(tasks.map((t) => [t, count ?? DEFAULT_SPLIT_COUNTS[t]])) });
      const { report, samples } = await evaluate({ examples: splitExamples(split), model: flowEvalModel(model, options), name: model.config.name, manifest: split.manifest, samples: tasks.length });
      await writeReport(out, report, samples);
      const m = report.overall.metrics;
      const engine = attachedOnnxDir(model) !== undefined ? 'onnx' : 'tfjs';
      io.stdout.write(`${report.overall.n} cases (${engine}): L1 ${m.l1?.toFixed(4)} L2 ${m.l2?.toFixed(4)} instructed ${m.instructed?.toFixed(3)} others-unchanged ${m.othersUnchanged?.toFixed(3)}; report in ${out}\n`);
    } finally {
      await releaseFlowModel(model);
    }
  },
};
