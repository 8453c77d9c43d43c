import { nn } from '@mige/core';

/**
 * Q-Former checkpoint layouts → this package's (LAVIS) names: `Qformer.bert.*` and
 * `query_tokens`. Tensors MIGE never uses (the position_ids buffer, word / position embeddings,
 * the text-path `intermediate` / `output` of each layer, the `cls` head) are dropped rather
 * than reported, because MIGE prunes those modules.
 */

/** Text-path LAVIS keys a full BLIP-2 checkpoint holds and MIGE's pruned Q-Former lacks. */
const LAVIS_UNUSED = /^Qformer\.(cls\.|bert\.embeddings\.(position_ids|word_embeddings\.|position_embeddings\.)|bert\.encoder\.layer\.\d+\.(intermediate|output)\.)/;

/** A LAVIS / MIGE key as it loads (undefined: dropped). */
export function lavisQFormerKey(key: string): string | undefined {
  return LAVIS_UNUSED.test(key) ? undefined : key;
}

const HF_UNUSED = /^qformer\.(embeddings\.|encoder\.layer\.\d+\.(intermediate|output)\.)/;

/**
 * An HF Blip2QFormerModel key inside a Blip2 checkpoint (`qformer.*`, `query_tokens`) in LAVIS
 * names; other keys pass through unchanged (so a strict load reports them).
 */
export function hfQFormerKey(key: string): string | undefined {
  if (HF_UNUSED.test(key)) return undefined;
  if (!key.startsWith('qformer.')) return key;
  const rest = key.slice('qformer.'.length);
  if (rest.startsWith('layernorm.')) return `Qformer.bert.embeddings.LayerNorm.${rest.slice('layernorm.'.length)}`;
  // HF names the self / cross attention's projections `attention.attention.*` / `crossattention.attention.*`.
  return `Qformer.bert.${rest.replace(/^(encoder\.layer\.\d+\.(?:attention|crossattention))\.attention\./, '$1.self.')}`;
}

export type QFormerKeyLayout = 'lavis' | 'hf';

/** Which layout a checkpoint uses: HF when any key starts with `qformer.`. */
export function detectQFormerLayout(keys: Iterable<string>): QFormerKeyLayout {
  for (const k of keys) if (k.startsWith('qformer.')) return 'hf';
  return 'lavis';
}

/** The checkpoint in LAVIS names, whatever its layout. */
export function qformerCheckpointReader(source: nn.StateDict | nn.TensorReader): { reader: nn.TensorReader; layout: QFormerKeyLayout } {
  const layout = detectQFormerLayout(source.keys());
  return { reader: nn.renameKeys(source, layout === 'hf' ? hfQFormerKey : lavisQFormerKey), layout };
}
