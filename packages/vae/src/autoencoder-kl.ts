import { checkShapes, MigeInputError, nn, tf, type ImageBatch, type Latents, type VaeCodec } from '@mige/core';
import { downsampleFactor, validateVaeConfig, VAE_PRESETS, type AutoencoderKLConfig, type VaePresetName } from './config.js';
import { Decoder } from './decoder.js';
import { DiagonalGaussianDistribution } from './distribution.js';
import { Encoder } from './encoder.js';
import { consume, toNCHW, toNHWC } from './steps.js';

/**
 * diffusers AutoencoderKL (the SD-VAE) behind MIGE's VaeCodec. Parameter names are diffusers'
 * (`encoder.down_blocks.0.resnets.0.conv1.weight`, ...). The public methods take and return
 * NCHW tensors; inside, activations stay NHWC so no conv needs a transpose.
 */
export class AutoencoderKL extends nn.Module implements VaeCodec {
  readonly config: Readonly<AutoencoderKLConfig>;
  readonly encoder: Encoder;
  readonly decoder: Decoder;
  /** 1×1 conv on the moments; absent when `useQuantConv` is false. */
  readonly quantConv?: nn.Conv2d;
  /** 1×1 conv on the latents before decoding; absent when `usePostQuantConv` is false. */
  readonly postQuantConv?: nn.Conv2d;
  /**
   * Encode and decode a batch one image at a time (diffusers' `enable_slicing`): the results are
   * the same and the peak memory is one image's, which keeps a 512 px batch inside wasm's 4 GB
   * heap. Default true.
   */
  useSlicing = true;

  constructor(config: Readonly<AutoencoderKLConfig>) {
    super();
    validateVaeConfig(config);
    this.config = Object.freeze({ ...config });
    const l = config.latentChannels;
    this.encoder = this.module('encoder', new Encoder(config));
    this.decoder = this.module('decoder', new Decoder(config));
    if (config.useQuantConv) this.quantConv = this.module('quant_conv', new nn.Conv2d(2 * l, 2 * l, 1));
    if (config.usePostQuantConv) this.postQuantConv = this.module('post_quant_conv', new nn.Conv2d(l, l, 1));
    this.eval();
  }

  get scalingFactor(): number {
    return this.config.scalingFactor;
  }

  get downsampleFactor(): number {
    return downsampleFactor(this.config);
  }

  get latentChannels(): number {
    return this.config.latentChannels;
  }

  /** images [B, in, H, W] in [-1, 1] → the latent distribution (unscaled). H and W must be multiples of downsampleFactor. */
  encode(images: ImageBatch): DiagonalGaussianDistribution {
    const moments = this.encodeMoments(images);
    try {
      return new DiagonalGaussianDistribution(moments);
    } finally {
      moments.dispose();
    }
  }

  /** images [B, in, H, W] → moments [B, 2·latent, H/f, W/f]: diffusers' quant_conv(encoder(images)). */
  encodeMoments(images: ImageBatch): tf.Tensor4D {
    this.checkInput('AutoencoderKL.encode', 'images', images, this.config.inChannels, this.downsampleFactor);
    return this.perItem(images, (x) => this.encodeItems(x));
  }

  /** Unscaled latents [B, latent, h, w] → images [B, out, h·f, w·f], nominally in [-1, 1] (not clamped). */
  decode(latents: Latents): ImageBatch {
    this.checkInput('AutoencoderKL.decode', 'latents', latents, this.config.latentChannels, 1);
    return this.perItem(latents, (z) => this.decodeItems(z));
  }

  /** `f` on the whole batch, or on each item in turn when slicing. */
  private perItem(x: tf.Tensor4D, f: (x: tf.Tensor4D) => tf.Tensor4D): tf.Tensor4D {
    const b = x.shape[0];
    if (!this.useSlicing || b === 1) return f(x);
    const outs: tf.Tensor4D[] = [];
    try {
      for (let i = 0; i < b; i++) outs.push(consume(tf.slice(x, [i, 0, 0, 0], [1, -1, -1, -1]), f));
      return tf.concat(outs, 0);
    } finally {
      tf.dispose(outs);
    }
  }

  private encodeItems(images: tf.Tensor4D): tf.Tensor4D {
    let h = consume(toNHWC(images), (x) => this.encoder.forwardNHWC(x));
    if (this.quantConv) {
      const conv = this.quantConv;
      h = consume(h, (t) => conv.forwardNHWC(t));
    }
    return consume(h, toNCHW);
  }

  private decodeItems(latents: tf.Tensor4D): tf.Tensor4D {
    let h = toNHWC(latents);
    if (this.postQuantConv) {
      const conv = this.postQuantConv;
      h = consume(h, (t) => conv.forwardNHWC(t));
    }
    h = consume(h, (t) => this.decoder.forwardNHWC(t));
    return consume(h, toNCHW);
  }

  private checkInput(where: string, name: string, x: tf.Tensor, channels: number, multiple: number): void {
    const { H, W } = checkShapes(where, { [name]: [x, ['B', channels, 'H', 'W']] }) as { H: number; W: number };
    if (x.dtype !== 'float32') throw new MigeInputError(`${name} has dtype ${x.dtype}, expected float32`, where);
    if (x.size === 0) throw new MigeInputError(`${name} has shape [${x.shape.join(', ')}], which is empty`, where);
    if (H % multiple !== 0 || W % multiple !== 0) {
      throw new MigeInputError(`${name} is ${H}×${W}; height and width must be multiples of ${multiple}`, where);
    }
  }
}

export interface CreateVaeOptions {
  /**
   * Draw random initial weights (PyTorch's default init, from nn.manualSeed's generator).
   * Default false: zero-filled parameters, for loading a checkpoint right after.
   */
  init?: boolean;
}

/** Builds an AutoencoderKL from a config or a preset name ('sd-vae-ft-ema', 'tiny'). */
export function createAutoencoderKL(config: Readonly<AutoencoderKLConfig> | VaePresetName, options: CreateVaeOptions = {}): AutoencoderKL {
  const c = typeof config === 'string' ? presetConfig(config) : config;
  return options.init ? new AutoencoderKL(c) : nn.withoutInit(() => new AutoencoderKL(c));
}

function presetConfig(name: string): Readonly<AutoencoderKLConfig> {
  if (!Object.hasOwn(VAE_PRESETS, name)) {
    throw new MigeInputError(`unknown preset ${JSON.stringify(name)}; expected one of ${Object.keys(VAE_PRESETS).join(', ')}`, 'createAutoencoderKL');
  }
  return VAE_PRESETS[name as VaePresetName];
}
