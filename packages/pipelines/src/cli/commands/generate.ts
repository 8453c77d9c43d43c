import { generate } from '../../flows/index.js';
import { list, parse, required, str } from '../args.js';
import { flowHelp, FLOW_OPTIONS, flowModelFromArgs, flowOptionsFromArgs, noticeResize, outArg, readImageArg, releaseFlowModel, startBackend, writeResults } from '../common.js';
import type { Command } from '../io.js';

export const generateCommand: Command = {
  name: 'generate',
  summary: 'subject-driven generation from an instruction and subject images',
  help: (argv) => `Usage: mige generate [--model <m>] --instruction <text> [--image <file>]... [options]

Subject-driven generation on a blank canvas: one <imagehere> in the instruction per --image, in order.
  --instruction, -i <t> the instruction, e.g. "a photo of <imagehere> on the beach"
  --image <file>        a subject image (PNG/JPEG/WebP), repeatable, up to 4
${flowHelp('generate', argv)}`,
  async run(argv, io) {
    const v = parse(argv, { ...FLOW_OPTIONS, image: { type: 'string', multiple: true } });
    const instruction = required(v, 'instruction');
    const modelArg = str(v, 'model');
    const out = outArg(v);
    const options = flowOptionsFromArgs(v, io);
    const paths = list(v, 'image');
    const images = await Promise.all(paths.map((p) => readImageArg(p, '--image', { v, io })));
    await startBackend(v);
    const model = await flowModelFromArgs(v, modelArg);
    try {
      images.forEach((img, i) => noticeResize(io, `--image ${paths[i]}`, img, model.config.imageSize, 'pad'));
      await writeResults(await generate(model, { instruction, images }, options), out, io);
    } finally {
      await releaseFlowModel(model);
    }
  },
};
