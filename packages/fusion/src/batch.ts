import { checkShapes, MigeInputError, nn, tf, type FusionItem, type Latents, type TokenSequence } from '@mige/core';

// FusionItem lives in @mige/core with FeatureFusion; re-exported for fusion's API.
export type { FusionItem } from '@mige/core';

type Fuse = (tokens: TokenSequence, latents: Latents) => TokenSequence;

/**
 * Runs `fuse` once per group of images that share a token and latent shape (usually the whole
 * batch) and splits the result back per item. Items without images get [0, Q, Dq] and never
 * reach `fuse`, so empty slots add no tokens and no work.
 */
export function fuseItems(items: readonly FusionItem[], fuse: Fuse): TokenSequence[] {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const where = `fuseBatch items[${i}]`;
    if (!item || typeof item !== 'object') throw new MigeInputError('expected { tokens, latents }', where);
    const { n } = checkShapes(where, { tokens: [item.tokens, ['n', 'Q', 'D']], latents: [item.latents, ['n', 4, 'h', 'w']] });
    if (n === 0) return;
    const key = [...item.tokens.shape.slice(1), ...item.latents.shape.slice(2)].join('x');
    groups.set(key, [...(groups.get(key) ?? []), i]);
  });
  const out: (TokenSequence | undefined)[] = items.map(() => undefined);
  for (const members of groups.values()) {
    const picked = members.map((i) => items[i] as FusionItem);
    const fused = tf.tidy(() => {
      const tokens = picked.length === 1 ? picked[0]!.tokens : tf.concat(picked.map((p) => p.tokens), 0);
      const latents = picked.length === 1 ? picked[0]!.latents : tf.concat(picked.map((p) => p.latents), 0);
      const all = fuse(tokens, latents);
      return nn.splitParts(all, picked.map((p) => p.tokens.shape[0]), 0);
    });
    members.forEach((i, j) => (out[i] = fused[j]));
  }
  return out.map((t, i) => {
    if (t) return t;
    const [, q, d] = (items[i] as FusionItem).tokens.shape;
    return tf.zeros([0, q, d]);
  });
}
