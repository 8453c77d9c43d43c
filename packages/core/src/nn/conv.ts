import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { Module } from './module.js';
import { uniformInit } from './init.js';
import { linear } from './ops.js';

type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (typeof v === 'number' ? [v, v] : v);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
  bias?: boolean;
}

/**
 * nn.Conv2d on NCHW tensors with PyTorch's weight layout [out, in, kh, kw] (groups = 1).
 * A non-overlapping patchify conv (kernel = stride, no padding) runs as reshape → transpose →
 * 2-D matmul, which is both faster on wasm and has a fast gradient; other convs use tf.conv2d.
 */
export class Conv2d extends Module {
  readonly weight: tf.Variable;
  readonly bias?: tf.Variable;
  readonly kernel: [number, number];
  readonly stride: [number, number];
  readonly padding: [number, number];
  readonly dilation: [number, number];

  constructor(readonly inChannels: number, readonly outChannels: number, kernelSize: Pair, options: Conv2dOptions = {}) {
    super();
    this.kernel = pair(kernelSize);
    this.stride = pair(options.stride ?? 1);
    this.padding = pair(options.padding ?? 0);
    this.dilation = pair(options.dilation ?? 1);
    const bound = 1 / Math.sqrt(inChannels * this.kernel[0] * this.kernel[1]);
    this.weight = this.param('weight', uniformInit([outChannels, inChannels, ...this.kernel], bound));
    if (options.bias ?? true) this.bias = this.param('bias', uniformInit([outChannels], bound));
  }

  private get isPatchify(): boolean {
    const [kh, kw] = this.kernel;
    return (
      kh === this.stride[0] && kw === this.stride[1] &&
      this.padding[0] === 0 && this.padding[1] === 0 &&
      this.dilation[0] === 1 && this.dilation[1] === 1
    );
  }

  /** x [B, in, H, W] → [B, out, H', W'] */
  forward(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) {
      throw new MigeInputError(`input has shape [${x.shape}], expected [B, ${this.inChannels}, H, W]`, 'Conv2d');
    }
    return this.isPatchify ? this.patchify(x as tf.Tensor4D) : this.general(x as tf.Tensor4D);
  }

  /**
   * The same convolution on channels-last tensors: x [B, H, W, in] → [B, H', W', out]. Models
   * that keep their activations NHWC (the VAE) skip the two transposes `forward` needs around
   * every tfjs conv, and the bias is added inside the conv kernel. The [kh, kw, in, out] filter
   * is laid out again on every call rather than cached: a cached filter also keeps the wasm
   * backend's packed copy alive, two extra copies of every conv weight (0.9 GB more heap for the
   * SD-VAE), while re-laying it costs little next to the convolution except on small feature
   * maps (the SD-VAE runs as fast without a cache from 128 px images up).
   */
  forwardNHWC(x: tf.Tensor): tf.Tensor4D {
    if (x.rank !== 4 || x.shape[3] !== this.inChannels) {
      throw new MigeInputError(`input has shape [${x.shape}], expected [B, H, W, ${this.inChannels}]`, 'Conv2d.forwardNHWC');
    }
    return this.isPatchify ? this.patchifyNHWC(x as tf.Tensor4D) : this.generalNHWC(x as tf.Tensor4D);
  }

  private patchify(x: tf.Tensor4D): tf.Tensor4D {
    const y = this.patchifyNHWC(tf.transpose(x, [0, 2, 3, 1]));
    return tf.transpose(y, [0, 3, 1, 2]);
  }

  /** Patches as rows (kh, kw, c order), then one linear layer; all transposes are rank 4. */
  private patchifyNHWC(nhwc: tf.Tensor4D): tf.Tensor4D {
    const [b, h, w, c] = nhwc.shape;
    const [p, q] = this.kernel;
    if (h % p !== 0 || w % q !== 0) {
      throw new MigeInputError(`input size ${h}x${w} is not divisible by the patch size ${p}x${q}`, 'Conv2d');
    }
    const gh = h / p, gw = w / q;
    const rows = tf.reshape(tf.transpose(tf.reshape(nhwc, [b * gh, p, gw, q * c]), [0, 2, 1, 3]), [b * gh * gw, p * q * c]);
    const wmat = tf.reshape(tf.transpose(this.weight, [0, 2, 3, 1]), [this.outChannels, p * q * c]);
    const y = linear(rows, wmat, this.bias);
    return tf.reshape(y, [b, gh, gw, this.outChannels]);
  }

  private general(x: tf.Tensor4D): tf.Tensor4D {
    const nhwc = tf.transpose(x, [0, 2, 3, 1]);
    let y: tf.Tensor4D = tf.conv2d(nhwc, this.filterFromWeight(), this.stride, this.explicitPadding(), 'NHWC');
    if (this.bias) y = tf.add(y, this.bias);
    return tf.transpose(y, [0, 3, 1, 2]);
  }

  private generalNHWC(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() =>
      tf.fused.conv2d({ x, filter: this.filterFromWeight(), strides: this.stride, pad: this.explicitPadding(), dataFormat: 'NHWC', bias: this.bias }),
    );
  }

  private explicitPadding(): [[number, number], [number, number], [number, number], [number, number]] {
    const [ph, pw] = this.padding;
    return [[0, 0], [ph, ph], [pw, pw], [0, 0]];
  }

  /**
   * [out, in, kh, kw] → [kh', kw', in, out]. tfjs has no conv gradient for dilation > 1:
   * the filter is the equivalent dilated one (zeros between taps), which computes the same
   * function and differentiates.
   */
  private filterFromWeight(): tf.Tensor4D {
    return tf.transpose(dilateKernel(this.weight, this.dilation), [2, 3, 1, 0]) as tf.Tensor4D;
  }
}

/** [out, in, kh, kw] → [out, in, (kh−1)·dh+1, (kw−1)·dw+1] with zeros between the taps. */
function dilateKernel(w: tf.Tensor, [dh, dw]: [number, number]): tf.Tensor {
  const spread = (t: tf.Tensor, axis: 2 | 3, d: number): tf.Tensor => {
    if (d === 1) return t;
    const s = t.shape as [number, number, number, number];
    const k = s[axis];
    // [.., k, ..] → [.., k, d] (taps then d−1 zeros) → [.., k·d] → drop the trailing zeros.
    const moved = axis === 2 ? tf.transpose(t, [0, 1, 3, 2]) : t;
    const m = moved.shape as [number, number, number, number];
    const padded = tf.pad(tf.reshape(moved, [m[0], m[1], m[2], k, 1]), [[0, 0], [0, 0], [0, 0], [0, 0], [0, d - 1]]);
    const flat = tf.slice(tf.reshape(padded, [m[0], m[1], m[2], k * d]), [0, 0, 0, 0], [m[0], m[1], m[2], (k - 1) * d + 1]);
    return axis === 2 ? tf.transpose(flat, [0, 1, 3, 2]) : flat;
  };
  return spread(spread(w, 3, dw), 2, dh);
}
