import { nn, tf } from '@mige/core';

/**
 * nn.Linear whose inference path can skip core's cached transposed weight. That cache, and the
 * XNNPACK packed copy the wasm matmul keeps for a long-lived operand, hold two more copies of
 * every weight: XL's 2.4 GB of weights would need about 7 GB, past wasm's 4 GB heap. Without it,
 * each call transposes the weight into a transient that is freed (with its packed copy) at once.
 * Training (gradient recording) always takes core's path.
 */
export class DitLinear extends nn.Linear {
  /** Keep the transposed weight between calls (set by the model before its first forward). */
  cacheTransposed = true;

  /** x [..., in] → [..., out] */
  override forward(x: tf.Tensor): tf.Tensor {
    if (this.cacheTransposed || tf.engine().isTapeOn()) return super.forward(x);
    if (x.shape[x.rank - 1] !== this.inFeatures) return super.forward(x); // core's error message
    const wt = tf.transpose(this.weight) as tf.Tensor2D;
    try {
      return nn.linearPretransposed(x, wt, this.bias);
    } finally {
      wt.dispose();
    }
  }
}

/**
 * torch's nn.Sequential for layers whose activations carry no parameters: only the parameterised
 * slots are registered, under their index (`t_block.1`, `t_embedder.mlp.0` / `.2`).
 */
export class Slots extends nn.Module {
  add<M extends nn.Module>(index: number, m: M): M {
    return this.module(String(index), m);
  }
}
