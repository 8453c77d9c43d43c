import { generate } from '../../flows/index.js';
import { list, parse, required, str } from '../args.js';
import { FLOW_HELP, FLOW_OPTIONS, flowModelFromArgs, flowOptionsFromArgs, outArg, readImageArg, releaseFlowModel, startBackend, writeResults } from '../common.js';
import type { Command } from '../io.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'subject-driven generation from an instruction and subject images',
  help: `Usage: mige generate [--model <dir|preset>] --instruction <text> [--image <file>]... [options]

Subject-driven generation on a blank canvas: one <imagehere> in the instruction per --image, in order.
  --instruction, -i <t> the instruction, e.g. "a photo of <imagehere> on the beach"
  --image <file>        a subject image (PNG/JPEG/WebP), repeatable, up to 4
${FLOW_HELP}`,
  async run(argv, io) {
    const v = parse(argv, { ...FLOW_OPTIONS, image: { type: 'string', multiple: true } });
    const instruction = required(v, 'instruction');
    const modelArg = str(v, 'model');
    const options = flowOptionsFromArgs(v, io);
    const images = await Promise.all(list(v, 'image').map((p) => readImageArg(p, '--image')));
    await startBackend(v);
    const model = await flowModelFromArgs(v, modelArg);
    try {
      await writeResults(await generate(model, { instruction, images }, options), outArg(v), io);
    } finally {
      await releaseFlowModel(model);
    }
  },
};
