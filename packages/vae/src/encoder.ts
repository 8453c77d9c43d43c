import { nn, tf } from '@mige/core';
import { DownEncoderBlock2D, UNetMidBlock2D } from './blocks.js';
import type { AutoencoderKLConfig } from './config.js';
import { VAE_NORM_EPS } from './resnet.js';
import { consume, normSilu, toNCHW, toNHWC } from './steps.js';

/**
 * diffusers Encoder (double_z): conv_in → down_blocks → mid_block → conv_norm_out, SiLU →
 * conv_out, giving the 2·latent_channels moments before quant_conv.
 */
export class Encoder extends nn.Module {
  readonly convIn: nn.Conv2d;
  readonly downBlocks: nn.ModuleList<DownEncoderBlock2D>;
  readonly midBlock: UNetMidBlock2D;
  readonly convNormOut: nn.GroupNorm;
  readonly convOut: nn.Conv2d;

  constructor(c: Readonly<AutoencoderKLConfig>) {
    super();
    const ch = c.blockOutChannels;
    const last = ch[ch.length - 1] as number;
    this.convIn = this.module('conv_in', new nn.Conv2d(c.inChannels, ch[0] as number, 3, { padding: 1 }));
    const blocks = ch.map((out, i) => new DownEncoderBlock2D(i === 0 ? out : (ch[i - 1] as number), out, c.layersPerBlock, c.normNumGroups, i < ch.length - 1));
    this.downBlocks = this.module('down_blocks', new nn.ModuleList(blocks));
    this.midBlock = this.module('mid_block', new UNetMidBlock2D(last, c.normNumGroups, c.midBlockAddAttention));
    this.convNormOut = this.module('conv_norm_out', new nn.GroupNorm(c.normNumGroups, last, VAE_NORM_EPS));
    this.convOut = this.module('conv_out', new nn.Conv2d(last, 2 * c.latentChannels, 3, { padding: 1 }));
  }

  /** images [B, H, W, in] → moments [B, H/f, W/f, 2·latent] (NHWC). */
  forwardNHWC(x: tf.Tensor4D): tf.Tensor4D {
    let h = this.convIn.forwardNHWC(x);
    for (const block of this.downBlocks) h = consume(h, (t) => block.forward(t));
    h = consume(h, (t) => this.midBlock.forward(t));
    h = consume(h, (t) => normSilu(this.convNormOut, t));
    return consume(h, (t) => this.convOut.forwardNHWC(t));
  }

  /** The NCHW view, as diffusers' `vae.encoder(images)`: [B, in, H, W] → [B, 2·latent, H/f, W/f]. */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => toNCHW(this.forwardNHWC(toNHWC(x))));
  }
}
