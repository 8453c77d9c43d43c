import { nn, tf } from '@mige/core';
import { VAE_NORM_EPS } from './resnet.js';

/**
 * diffusers `Attention` as the VAE mid block configures it: GroupNorm, then single-head
 * self-attention over the H·W positions with the channels as the head dim (`to_q`, `to_k`,
 * `to_v`, `to_out.0`, all Linear with bias, scale C^-½), plus the residual. In NHWC the
 * positions are already rows of a [B, H·W, C] matrix, so no transpose is needed.
 */
export class VaeAttention extends nn.Module {
  readonly groupNorm: nn.GroupNorm;
  readonly toQ: nn.Linear;
  readonly toK: nn.Linear;
  readonly toV: nn.Linear;
  readonly toOut: nn.ModuleList<nn.Linear>;

  constructor(readonly channels: number, groups: number) {
    super();
    this.groupNorm = this.module('group_norm', new nn.GroupNorm(groups, channels, VAE_NORM_EPS));
    this.toQ = this.module('to_q', new nn.Linear(channels, channels));
    this.toK = this.module('to_k', new nn.Linear(channels, channels));
    this.toV = this.module('to_v', new nn.Linear(channels, channels));
    // diffusers' to_out is [Linear, Dropout]; the dropout has no state.
    this.toOut = this.module('to_out', new nn.ModuleList([new nn.Linear(channels, channels)]));
  }

  /** x [B, H, W, C] → [B, H, W, C] (NHWC). */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = x.shape;
    return tf.tidy(() => {
      const seq = tf.reshape(x, [b, h * w, c]) as tf.Tensor3D;
      const normed = this.groupNorm.forwardNHWC(seq);
      const q = this.toQ.forward(normed) as tf.Tensor3D;
      const k = this.toK.forward(normed) as tf.Tensor3D;
      const v = this.toV.forward(normed) as tf.Tensor3D;
      normed.dispose();
      const attended = nn.attention(q, k, v, 1 / Math.sqrt(c));
      tf.dispose([q, k, v]);
      const out = this.toOut.at(0).forward(attended);
      attended.dispose();
      return tf.reshape(tf.add(out, seq), [b, h, w, c]) as tf.Tensor4D;
    });
  }
}
