import type { TensorData } from '@mige/core';

/**
 * The fixture's diffusers-named weights rewritten into the older layouts, written independently
 * of src/vae-keys.ts (as diffusers' own conversion scripts describe them) so the tests check the
 * mapping rather than repeat it.
 */
type Weights = Map<string, TensorData>;

function rename(weights: Weights, f: (key: string, t: TensorData) => [string, TensorData]): Weights {
  return new Map([...weights].map(([k, t]) => f(k, t)));
}

/** diffusers before 0.14: mid-block attention as query / key / value / proj_attn. */
export function toLegacyAttentionNames(weights: Weights): Weights {
  const names: Record<string, string> = { to_q: 'query', to_k: 'key', to_v: 'value', 'to_out.0': 'proj_attn' };
  return rename(weights, (k, t) => [k.replace(/attentions\.0\.(to_q|to_k|to_v|to_out\.0)\./, (_, n: string) => `attentions.0.${names[n]}.`), t]);
}

/** The original LDM / Stable Diffusion names, optionally under `first_stage_model.`. */
export function toLdmNames(weights: Weights, numBlocks: number, prefix = ''): Weights {
  const attn: Record<string, string> = { group_norm: 'norm', to_q: 'q', to_k: 'k', to_v: 'v', 'to_out.0': 'proj_out' };
  const resnet = (rest: string) => rest.replace('conv_shortcut.', 'nin_shortcut.');
  return rename(weights, (k, t) => {
    let m: RegExpMatchArray | null;
    let key = k;
    if ((m = k.match(/^(encoder|decoder)\.conv_norm_out\.(.+)$/))) key = `${m[1]}.norm_out.${m[2]}`;
    else if ((m = k.match(/^encoder\.down_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) key = `encoder.down.${m[1]}.block.${m[2]}.${resnet(m[3] as string)}`;
    else if ((m = k.match(/^encoder\.down_blocks\.(\d+)\.downsamplers\.0\.conv\.(.+)$/))) key = `encoder.down.${m[1]}.downsample.conv.${m[2]}`;
    else if ((m = k.match(/^decoder\.up_blocks\.(\d+)\.resnets\.(\d+)\.(.+)$/))) key = `decoder.up.${numBlocks - 1 - Number(m[1])}.block.${m[2]}.${resnet(m[3] as string)}`;
    else if ((m = k.match(/^decoder\.up_blocks\.(\d+)\.upsamplers\.0\.conv\.(.+)$/))) key = `decoder.up.${numBlocks - 1 - Number(m[1])}.upsample.conv.${m[2]}`;
    else if ((m = k.match(/^(encoder|decoder)\.mid_block\.resnets\.(\d)\.(.+)$/))) key = `${m[1]}.mid.block_${Number(m[2]) + 1}.${resnet(m[3] as string)}`;
    else if ((m = k.match(/^(encoder|decoder)\.mid_block\.attentions\.0\.(group_norm|to_q|to_k|to_v|to_out\.0)\.(weight|bias)$/))) {
      key = `${m[1]}.mid.attn_1.${attn[m[2] as string]}.${m[3]}`;
      // LDM's attention projections are 1×1 convs.
      if (m[2] !== 'group_norm' && m[3] === 'weight') t = { ...t, shape: [...t.shape, 1, 1] };
    }
    return [prefix + key, t];
  });
}
