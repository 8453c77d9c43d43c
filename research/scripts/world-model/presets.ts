/**
 * The playground's twelve presets (apps/playground's presetWorldExamples) run by any model on ONNX
 * Runtime, each scored by the world's `instructed`: what apps/playground's preset test asks of the
 * default model, for a candidate model.
 *
 *   npx tsx ../../research/scripts/world-model/presets.ts --models a=runs/x/model,b=../model-world [--seed 0]
 */
import { objectScores } from '@mige/data';
import { presetWorldExamples } from '../../../apps/playground/src/server/presets.js';
import { flowEvalModel } from '../../../packages/pipelines/src/flows/index.js';
import { loadModel } from '../../../packages/pipelines/src/model/index.js';
import { args, attachTempOnnx, start } from '../../../packages/pipelines/scripts/world-model/common.js';

const a = args({ models: 'default=../model-world', seed: '0' });
await start();
for (const spec of a.models.split(',').filter(Boolean)) {
  const [name, path] = spec.includes('=') ? (spec.split('=') as [string, string]) : [spec, spec];
  const model = await loadModel(path);
  const detach = await attachTempOnnx(model);
  const run = flowEvalModel(model, { engine: 'onnx', seed: Number(a.seed) });
  const lines: string[] = [];
  let done = 0;
  for (const { id, example } of presetWorldExamples(model.config.imageSize)) {
    const ok = objectScores(example, await run(example)).instructed === 1;
    if (ok) done++;
    lines.push(`  ${ok ? 'ok  ' : 'FAIL'} ${id}: ${example.instruction}`);
  }
  console.log(`${name}: ${done} of ${lines.length} presets carried out\n${lines.join('\n')}`);
  await detach();
  model.dispose();
}
