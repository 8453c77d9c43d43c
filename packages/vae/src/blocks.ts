import { nn, tf } from '@mige/core';
import { VaeAttention } from './attention.js';
import { ResnetBlock2D } from './resnet.js';
import { consume } from './steps.js';

/** All blocks take and return NHWC tensors [B, H, W, C]. */

/** diffusers Downsample2D (use_conv, padding 0): zero-pad right and bottom by 1, then a 3×3 stride-2 `conv`. */
export class Downsample2D extends nn.Module {
  readonly conv: nn.Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.module('conv', new nn.Conv2d(channels, channels, 3, { stride: 2, padding: 0 }));
  }
  /** [B, H, W, C] → [B, H/2, W/2, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return consume(tf.pad(x, [[0, 0], [0, 1], [0, 1], [0, 0]]), (p) => this.conv.forwardNHWC(p));
  }
}

/** diffusers Upsample2D (use_conv): nearest-neighbour ×2, then a 3×3 `conv`. */
export class Upsample2D extends nn.Module {
  readonly conv: nn.Conv2d;
  constructor(channels: number) {
    super();
    this.conv = this.module('conv', new nn.Conv2d(channels, channels, 3, { padding: 1 }));
  }
  /** [B, H, W, C] → [B, 2H, 2W, C] */
  forward(x: tf.Tensor4D): tf.Tensor4D {
    const [, h, w] = x.shape;
    // Nearest neighbour with floor(i/2) source indices, as torch's F.interpolate(scale_factor=2).
    return consume(tf.image.resizeNearestNeighbor(x, [2 * h, 2 * w]), (u) => this.conv.forwardNHWC(u));
  }
}

/** Runs `x` through `modules` in turn, freeing each intermediate. */
function chain(x: tf.Tensor4D, modules: Iterable<{ forward(x: tf.Tensor4D): tf.Tensor4D }>): tf.Tensor4D {
  let h = x;
  for (const m of modules) h = h === x ? m.forward(h) : consume(h, (t) => m.forward(t));
  return h;
}

/** diffusers DownEncoderBlock2D: `resnets` then, except in the last block, one Downsample2D in `downsamplers`. */
export class DownEncoderBlock2D extends nn.Module {
  readonly resnets: nn.ModuleList<ResnetBlock2D>;
  readonly downsamplers?: nn.ModuleList<Downsample2D>;
  constructor(inChannels: number, outChannels: number, numLayers: number, groups: number, addDownsample: boolean) {
    super();
    const resnets = Array.from({ length: numLayers }, (_, i) => new ResnetBlock2D(i === 0 ? inChannels : outChannels, outChannels, groups));
    this.resnets = this.module('resnets', new nn.ModuleList(resnets));
    if (addDownsample) this.downsamplers = this.module('downsamplers', new nn.ModuleList([new Downsample2D(outChannels)]));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return chain(x, [...this.resnets, ...(this.downsamplers ?? [])]);
  }
}

/** diffusers UpDecoderBlock2D: `resnets` then, except in the last block, one Upsample2D in `upsamplers`. */
export class UpDecoderBlock2D extends nn.Module {
  readonly resnets: nn.ModuleList<ResnetBlock2D>;
  readonly upsamplers?: nn.ModuleList<Upsample2D>;
  constructor(inChannels: number, outChannels: number, numLayers: number, groups: number, addUpsample: boolean) {
    super();
    const resnets = Array.from({ length: numLayers }, (_, i) => new ResnetBlock2D(i === 0 ? inChannels : outChannels, outChannels, groups));
    this.resnets = this.module('resnets', new nn.ModuleList(resnets));
    if (addUpsample) this.upsamplers = this.module('upsamplers', new nn.ModuleList([new Upsample2D(outChannels)]));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return chain(x, [...this.resnets, ...(this.upsamplers ?? [])]);
  }
}

/** diffusers UNetMidBlock2D without a time embedding: resnet, (attention), resnet. */
export class UNetMidBlock2D extends nn.Module {
  readonly attentions?: nn.ModuleList<VaeAttention>;
  readonly resnets: nn.ModuleList<ResnetBlock2D>;
  constructor(channels: number, groups: number, addAttention: boolean) {
    super();
    // diffusers registers `attentions` before `resnets`, which fixes the state-dict order.
    if (addAttention) this.attentions = this.module('attentions', new nn.ModuleList([new VaeAttention(channels, groups)]));
    this.resnets = this.module('resnets', new nn.ModuleList([new ResnetBlock2D(channels, channels, groups), new ResnetBlock2D(channels, channels, groups)]));
  }
  forward(x: tf.Tensor4D): tf.Tensor4D {
    return chain(x, [this.resnets.at(0), ...(this.attentions ?? []), this.resnets.at(1)]);
  }
}
