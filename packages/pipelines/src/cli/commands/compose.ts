import { compose } from '../../flows/index.js';
import { list, num, parse, required, str, UsageError } from '../args.js';
import { flowHelp, FLOW_OPTIONS, flowModelFromArgs, flowOptionsFromArgs, noticeResize, outArg, readImageArg, releaseFlowModel, startBackend, writeResults } from '../common.js';
import type { Command } from '../io.js';

export const composeCommand: Command = {
  name: 'compose',
  summary: 'instruction-based subject-driven editing (add / replace a subject)',
  help: (argv) => `Usage: mige compose [--model <m>] --instruction <text> --source <file> --subject <file>... [options]

Adds or replaces a subject in the source image. The instruction holds one <imagehere> per --subject,
or one more for the source, which then takes slot --source-slot (default 0):
  "add <imagehere> next to the bench"  or  "in <imagehere>, replace the dog with <imagehere>"
  --instruction, -i <t> the instruction
  --source <file>       the image to edit
  --subject <file>      a subject image, repeatable
  --source-slot <k>     which <imagehere> is the source when the instruction names it (default 0)
  --scale-s <s>         source guidance scale s_s
${flowHelp('compose', argv)}`,
  async run(argv, io) {
    const v = parse(argv, { ...FLOW_OPTIONS, source: { type: 'string' }, subject: { type: 'string', multiple: true }, 'source-slot': { type: 'string' } });
    const instruction = required(v, 'instruction');
    const sourcePath = required(v, 'source');
    const modelArg = str(v, 'model');
    const subjectPaths = list(v, 'subject');
    if (subjectPaths.length === 0) throw new UsageError('--subject is required (one per subject image)');
    const sourceSlot = num(v, 'source-slot', { integer: true, min: 0 });
    const out = outArg(v);
    const options = flowOptionsFromArgs(v, io);
    const source = await readImageArg(sourcePath, '--source', { v, io });
    const subjects = await Promise.all(subjectPaths.map((p) => readImageArg(p, '--subject', { v, io })));
    await startBackend(v);
    const model = await flowModelFromArgs(v, modelArg);
    try {
      const size = model.config.imageSize;
      noticeResize(io, `--source ${sourcePath}`, source, size, 'crop');
      subjects.forEach((img, i) => noticeResize(io, `--subject ${subjectPaths[i]}`, img, size, 'crop'));
      await writeResults(await compose(model, { instruction, source, subjects, ...(sourceSlot !== undefined ? { sourceSlot } : {}) }, options), out, io);
    } finally {
      await releaseFlowModel(model);
    }
  },
};
