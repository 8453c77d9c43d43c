import { edit } from '../../flows/index.js';
import { parse, required, str } from '../args.js';
import { flowHelp, FLOW_OPTIONS, flowModelFromArgs, flowOptionsFromArgs, noticeResize, outArg, readImageArg, releaseFlowModel, startBackend, writeResults } from '../common.js';
import type { Command } from '../io.js';

export const editCommand: Command = {
  name: 'edit',
  summary: 'instruction-based editing of a source image',
  help: (argv) => `Usage: mige edit [--model <m>] --instruction <text> --source <file> [options]

Instruction-based editing. The source is the conditional input and the instruction's image: write
<imagehere> where it belongs ("make the sky in <imagehere> pink"), or leave it out and it is placed as
the reference does ("the image" becomes <imagehere>, else " in<imagehere>" is appended).
  --instruction, -i <t> the edit instruction
  --source <file>       the image to edit
  --scale-s <s>         source guidance scale s_s
${flowHelp('edit', argv)}`,
  async run(argv, io) {
    const v = parse(argv, { ...FLOW_OPTIONS, source: { type: 'string' } });
    const instruction = required(v, 'instruction');
    const sourcePath = required(v, 'source');
    const modelArg = str(v, 'model');
    const out = outArg(v);
    const options = flowOptionsFromArgs(v, io);
    const source = await readImageArg(sourcePath, '--source', { v, io });
    await startBackend(v);
    const model = await flowModelFromArgs(v, modelArg);
    try {
      noticeResize(io, `--source ${sourcePath}`, source, model.config.imageSize, 'crop');
      await writeResults(await edit(model, { instruction, source }, options), out, io);
    } finally {
      await releaseFlowModel(model);
    }
  },
};
