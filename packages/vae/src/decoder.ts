import { nn, tf } from '@mige/core';
import { UNetMidBlock2D, UpDecoderBlock2D } from './blocks.js';
import type { AutoencoderKLConfig } from './config.js';
import { VAE_NORM_EPS } from './resnet.js';
import { consume, normSilu, toNCHW, toNHWC } from './steps.js';

/**
 * diffusers Decoder: conv_in → mid_block → up_blocks (layers_per_block + 1 resnets each, in
 * reversed channel order) → conv_norm_out, SiLU → conv_out.
 */
export class Decoder extends nn.Module {
  readonly convIn: nn.Conv2d;
  readonly upBlocks: nn.ModuleList<UpDecoderBlock2D>;
  readonly midBlock: UNetMidBlock2D;
  readonly convNormOut: nn.GroupNorm;
  readonly convOut: nn.Conv2d;

  constructor(c: Readonly<AutoencoderKLConfig>) {
    super();
    const reversed = [...c.blockOutChannels].reverse();
    const top = reversed[0] as number;
    const first = c.blockOutChannels[0] as number;
    this.convIn = this.module('conv_in', new nn.Conv2d(c.latentChannels, top, 3, { padding: 1 }));
    // diffusers assigns up_blocks before mid_block, which fixes the state-dict order.
    const blocks = reversed.map((out, i) => new UpDecoderBlock2D(i === 0 ? top : (reversed[i - 1] as number), out, c.layersPerBlock + 1, c.normNumGroups, i < reversed.length - 1));
    this.upBlocks = this.module('up_blocks', new nn.ModuleList(blocks));
    this.midBlock = this.module('mid_block', new UNetMidBlock2D(top, c.normNumGroups, c.midBlockAddAttention));
    this.convNormOut = this.module('conv_norm_out', new nn.GroupNorm(c.normNumGroups, first, VAE_NORM_EPS));
    this.convOut = this.module('conv_out', new nn.Conv2d(first, c.outChannels, 3, { padding: 1 }));
  }

  /** z [B, h, w, latent] (after post_quant_conv) → images [B, h·f, w·f, out] (NHWC). */
  forwardNHWC(z: tf.Tensor4D): tf.Tensor4D {
    let h = this.convIn.forwardNHWC(z);
    h = consume(h, (t) => this.midBlock.forward(t));
    for (const block of this.upBlocks) h = consume(h, (t) => block.forward(t));
    h = consume(h, (t) => normSilu(this.convNormOut, t));
    return consume(h, (t) => this.convOut.forwardNHWC(t));
  }

  /** The NCHW view, as diffusers' `vae.decoder(z)`: [B, latent, h, w] → [B, out, h·f, w·f]. */
  forward(z: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => toNCHW(this.forwardNHWC(toNHWC(z))));
  }
}
