import { nn, tf } from '@mige/core';
import { consume, normSilu } from './steps.js';

/** diffusers' GroupNorm epsilon inside AutoencoderKL. */
export const VAE_NORM_EPS = 1e-6;

/**
 * diffusers ResnetBlock2D without a time embedding, as AutoencoderKL uses it:
 * out = shortcut(x) + conv2(SiLU(GN2(conv1(SiLU(GN1(x)))))), with a 1×1 `conv_shortcut` when the
 * channel count changes. Dropout is 0 and the output scale factor 1.
 */
export class ResnetBlock2D extends nn.Module {
  readonly norm1: nn.GroupNorm;
  readonly conv1: nn.Conv2d;
  readonly norm2: nn.GroupNorm;
  readonly conv2: nn.Conv2d;
  readonly convShortcut?: nn.Conv2d;

  constructor(readonly inChannels: number, readonly outChannels: number, groups: number) {
    super();
    this.norm1 = this.module('norm1', new nn.GroupNorm(groups, inChannels, VAE_NORM_EPS));
    this.conv1 = this.module('conv1', new nn.Conv2d(inChannels, outChannels, 3, { padding: 1 }));
    this.norm2 = this.module('norm2', new nn.GroupNorm(groups, outChannels, VAE_NORM_EPS));
    this.conv2 = this.module('conv2', new nn.Conv2d(outChannels, outChannels, 3, { padding: 1 }));
    if (inChannels !== outChannels) this.convShortcut = this.module('conv_shortcut', new nn.Conv2d(inChannels, outChannels, 1));
  }

  /** x [B, H, W, in] → [B, H, W, out] (NHWC). */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      let h = normSilu(this.norm1, x);
      h = consume(h, (t) => this.conv1.forwardNHWC(t));
      h = consume(h, (t) => normSilu(this.norm2, t));
      h = consume(h, (t) => this.conv2.forwardNHWC(t));
      const shortcut = this.convShortcut ? this.convShortcut.forwardNHWC(x) : x;
      return consume(h, (t) => tf.add(shortcut, t));
    });
  }
}
