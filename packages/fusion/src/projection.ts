import { nn, tf } from '@mige/core';

/**
 * The reference's `nn.Sequential(Linear(in, out), GELU(), Linear(out, out))`: children '0', '1'
 * and '2' so the state-dict keys are `.0.weight` / `.2.bias` as in the checkpoint.
 */
export class ProjectionMlp extends nn.Module {
  readonly fc1: nn.Linear;
  readonly act: nn.GELU;
  readonly fc2: nn.Linear;

  constructor(inFeatures: number, outFeatures: number) {
    super();
    this.fc1 = this.module('0', new nn.Linear(inFeatures, outFeatures));
    // Exact erf GELU, torch's nn.GELU() default.
    this.act = this.module('1', new nn.GELU('none'));
    this.fc2 = this.module('2', new nn.Linear(outFeatures, outFeatures));
  }

  /** x [..., in] → [..., out] */
  forward(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => this.fc2.forward(this.act.forward(this.fc1.forward(x))));
  }
}
