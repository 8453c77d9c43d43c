import { resize, type RgbImage } from '@mige/core';
import type { EvalModel, WorldExample } from '@mige/data';
import type { MigeModel } from '../model/index.js';
import { compose, edit, generate } from './flows.js';
import type { FlowOptions } from './types.js';

/**
 * A MIGE model as @mige/data's benchmark sees it: each synthetic-world case runs through the
 * flow of its task (subject → generate, compositional → compose, the rest → edit), and the
 * output is resized (bicubic) to the case's canvas when the model's size differs.
 */
export function flowEvalModel(model: MigeModel, options: FlowOptions = {}): EvalModel {
  return async (ex: WorldExample): Promise<RgbImage> => {
    const { instruction, source, entities } = ex;
    let result;
    if (!source) {
      result = await generate(model, { instruction, images: entities }, options);
    } else if (ex.task === 'compose_add' || ex.task === 'compose_replace') {
      const subjects = entities.filter((e) => e !== source);
      const slot = entities.indexOf(source);
      result = await compose(model, { instruction, source, subjects, ...(slot >= 0 ? { sourceSlot: slot } : {}) }, options);
    } else {
      result = await edit(model, { instruction, source }, options);
    }
    result.tensor.dispose();
    const out = (result.images[0] as { image: RgbImage }).image;
    return out.width === ex.target.width && out.height === ex.target.height ? out : resize(out, ex.target.width, ex.target.height, 'bicubic');
  };
}
