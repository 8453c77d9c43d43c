import { blipEvalTransform, decodeImage, MigeInputError, vaeTransform, type ChwImage, type ImageLimits } from '@mige/core';
import { resolveInsideRoot } from './resolve-path.js';
import type { MigeRecord } from './types.js';
import { realRoot } from './validate.js';

export interface PrepareSizes {
  /** Square side of the VAE inputs (target, source). Reference: 512. */
  vaeSize?: number;
  /** Square side of the entity images for the ViT. Reference: 224. */
  clipSize?: number;
  limits?: ImageLimits;
}

/** One example ready for the model: CHW float32 images as the reference's transforms make them. */
export interface PreparedExample {
  /** vaeTransform(target): [3, vaeSize, vaeSize] in [-1, 1]. */
  target: ChwImage;
  /** vaeTransform(source), or null for subject-driven generation. */
  source: ChwImage | null;
  /** blipEvalTransform(entity) per entity, in placeholder order: [3, clipSize, clipSize], CLIP-normalised. */
  entities: ChwImage[];
  /** vaeTransform(entity) per entity: [3, vaeSize, vaeSize] in [-1, 1], for their VAE latents (FFM). */
  entitiesVae: ChwImage[];
  instruction: string;
}

/**
 * Decodes and transforms one record exactly as the reference's dataset does: short-side resize +
 * center crop + [-1,1] for VAE images, BLIP eval transform for entities. Paths resolve against
 * `root` and must stay inside it (symlinks followed), as in validation.
 */
export async function prepareExample(
  record: Pick<MigeRecord, 'image' | 'source_path' | 'entity_path' | 'multi_prompt'>,
  root: string,
  sizes: PrepareSizes = {},
): Promise<PreparedExample> {
  const vaeSize = sizes.vaeSize ?? 512;
  const clipSize = sizes.clipSize ?? 224;
  const limits = sizes.limits ?? {};
  const rootReal = await realRoot(root);
  const load = async (p: string, field: string) => {
    const r = await resolveInsideRoot(root, rootReal, p, field);
    if (!r.ok) throw new MigeInputError(r.reason, root);
    return decodeImage(r.path, { ...limits, label: `${field} ${r.path}` });
  };
  const target = vaeTransform(await load(record.image, 'image'), vaeSize);
  const source = record.source_path === '' ? null : vaeTransform(await load(record.source_path, 'source_path'), vaeSize);
  const entities: ChwImage[] = [];
  const entitiesVae: ChwImage[] = [];
  for (let i = 0; i < record.entity_path.length; i++) {
    const img = await load(record.entity_path[i] as string, `entity_path[${i}]`);
    entities.push(blipEvalTransform(img, clipSize));
    entitiesVae.push(vaeTransform(img, vaeSize));
  }
  return { target, source, entities, entitiesVae, instruction: record.multi_prompt };
}
