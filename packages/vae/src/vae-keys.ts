import { nn, tf } from '@mige/core';

/**
 * Every checkpoint layout the VAE loads, mapped to diffusers' current names in this one file:
 *
 * - `diffusers`: AutoencoderKL's own names. Checkpoints saved before diffusers 0.14 (such as
 *   sd-vae-ft-ema's diffusion_pytorch_model.bin) name the mid-block attention
 *   `query` / `key` / `value` / `proj_attn`; those become `to_q` / `to_k` / `to_v` / `to_out.0`.
 * - `ldm`: the original latent-diffusion / Stable Diffusion names (`encoder.down.0.block.1.conv1`,
 *   `decoder.up.3.upsample.conv`, `mid.attn_1.q`, ...), alone (vae-ft-mse-840000-ema-pruned) or
 *   under `first_stage_model.` inside a whole SD checkpoint. LDM numbers the decoder's `up`
 *   levels from the image side, diffusers' `up_blocks` from the latent side, and its attention
 *   projections are 1×1 convs [C, C, 1, 1] where diffusers has Linear [C, C].
 *
 * Keys that are not the VAE's (other SD components, the LDM training loss) are dropped; keys
 * that look like the VAE's but match nothing keep their names, so loading reports them.
 */
export type VaeKeyLayout = 'diffusers' | 'ldm';

type Source = nn.StateDict | nn.TensorReader;

const LDM_PREFIX = 'first_stage_model.';
const LDM_MARKER = /^(encoder|decoder)\.(down|up|mid|norm_out)\./;

/** Which naming a checkpoint uses, from its keys. */
export function detectVaeKeyLayout(keys: Iterable<string>): VaeKeyLayout {
  for (const k of keys) if (k.startsWith(LDM_PREFIX) || LDM_MARKER.test(k)) return 'ldm';
  return 'diffusers';
}

const LEGACY_ATTENTION: Record<string, string> = { query: 'to_q', key: 'to_k', value: 'to_v', proj_attn: 'to_out.0' };
const LDM_ATTENTION: Record<string, string> = { norm: 'group_norm', q: 'to_q', k: 'to_k', v: 'to_v', proj_out: 'to_out.0' };

/** Names inside one LDM ResnetBlock: only the shortcut differs. */
const ldmResnetPart = (rest: string): string => rest.replace(/^nin_shortcut\./, 'conv_shortcut.');

/**
 * A checkpoint key → diffusers' current name, or undefined for a tensor that is not the VAE's.
 * `numBlocks` (blockOutChannels.length) is needed to renumber LDM's decoder levels.
 */
export function diffusersVaeKey(key: string, layout: VaeKeyLayout, numBlocks: number): string | undefined {
  if (layout === 'diffusers') {
    return key.replace(/^((?:encoder|decoder)\.mid_block\.attentions\.\d+)\.(query|key|value|proj_attn)\./, (_, head: string, name: string) => `${head}.${LEGACY_ATTENTION[name]}.`);
  }
  return ldmToDiffusers(key, numBlocks);
}

function ldmToDiffusers(key: string, numBlocks: number): string | undefined {
  let m: RegExpMatchArray | null;
  if ((m = key.match(/^(encoder|decoder)\.norm_out\.(.+)$/))) return `${m[1]}.conv_norm_out.${m[2]}`;
  if ((m = key.match(/^encoder\.down\.(\d+)\.block\.(\d+)\.(.+)$/))) return `encoder.down_blocks.${m[1]}.resnets.${m[2]}.${ldmResnetPart(m[3] as string)}`;
  if ((m = key.match(/^encoder\.down\.(\d+)\.downsample\.conv\.(.+)$/))) return `encoder.down_blocks.${m[1]}.downsamplers.0.conv.${m[2]}`;
  const upBlock = (level: string): number => numBlocks - 1 - Number(level);
  if ((m = key.match(/^decoder\.up\.(\d+)\.block\.(\d+)\.(.+)$/))) return `decoder.up_blocks.${upBlock(m[1] as string)}.resnets.${m[2]}.${ldmResnetPart(m[3] as string)}`;
  if ((m = key.match(/^decoder\.up\.(\d+)\.upsample\.conv\.(.+)$/))) return `decoder.up_blocks.${upBlock(m[1] as string)}.upsamplers.0.conv.${m[2]}`;
  if ((m = key.match(/^(encoder|decoder)\.mid\.block_([12])\.(.+)$/))) return `${m[1]}.mid_block.resnets.${Number(m[2]) - 1}.${ldmResnetPart(m[3] as string)}`;
  if ((m = key.match(/^(encoder|decoder)\.mid\.attn_1\.(norm|q|k|v|proj_out)\.(.+)$/))) {
    return `${m[1]}.mid_block.attentions.0.${LDM_ATTENTION[m[2] as string]}.${m[3]}`;
  }
  if (/^(loss|model_ema)\./.test(key)) return undefined;
  return key;
}

const ATTENTION_WEIGHT = /\.attentions\.\d+\.(to_q|to_k|to_v|to_out\.0)\.weight$/;

/** [C, C, 1, 1] attention weights (LDM's 1×1 convs) read as [C, C]; everything else as stored. */
function squeezeAttentionConvs(source: nn.TensorReader): nn.TensorReader {
  const squeezed = (name: string, shape: readonly number[]): boolean =>
    ATTENTION_WEIGHT.test(name) && shape.length === 4 && shape[2] === 1 && shape[3] === 1;
  return {
    keys: () => source.keys(),
    info: (name) => {
      const shape = source.info(name).shape;
      return { shape: squeezed(name, shape) ? shape.slice(0, 2) : shape };
    },
    read: (name) => {
      const v = source.read(name);
      const shape = v instanceof tf.Tensor ? v.shape : v.shape;
      if (!squeezed(name, shape)) return v;
      const data = v instanceof tf.Tensor ? (v.dataSync() as Float32Array) : v.data;
      return { dtype: v.dtype === 'int32' ? 'int32' : 'float32', shape: shape.slice(0, 2), data };
    },
  };
}

/**
 * A view of a checkpoint (a reader such as SafetensorsReader / PthReader, or a Map) with
 * diffusers' current AutoencoderKL names, whatever layout it was saved in. Streams: nothing is
 * read until the loader asks for a tensor.
 */
export function vaeCheckpointReader(source: Source, numBlocks: number): { reader: nn.TensorReader; layout: VaeKeyLayout } {
  const keys = source instanceof Map ? [...source.keys()] : [...source.keys()];
  const layout = detectVaeKeyLayout(keys);
  const wholeSd = layout === 'ldm' && keys.some((k) => k.startsWith(LDM_PREFIX));
  const renamed = nn.renameKeys(source, (k) => {
    if (!wholeSd) return diffusersVaeKey(k, layout, numBlocks);
    return k.startsWith(LDM_PREFIX) ? diffusersVaeKey(k.slice(LDM_PREFIX.length), layout, numBlocks) : undefined;
  });
  return { reader: squeezeAttentionConvs(renamed), layout };
}
