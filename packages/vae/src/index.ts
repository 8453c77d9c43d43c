/**
 * @mige/vae: diffusers' AutoencoderKL (the SD-VAE) for MIGE.js, behind core's VaeCodec.
 * See README.md.
 */
export { AutoencoderKL, createAutoencoderKL, type CreateVaeOptions } from './autoencoder-kl.js';
export {
  SD_VAE_FT_EMA,
  SD_VAE_TINY,
  VAE_PRESETS,
  downsampleFactor,
  validateVaeConfig,
  type AutoencoderKLConfig,
  type DownBlockType,
  type UpBlockType,
  type VaePresetName,
} from './config.js';
export { parseDiffusersVaeConfig, toDiffusersVaeConfig, type DiffusersVaeConfig } from './diffusers-config.js';
export { DiagonalGaussianDistribution, LOGVAR_RANGE } from './distribution.js';
export { Encoder } from './encoder.js';
export { Decoder } from './decoder.js';
export { ResnetBlock2D } from './resnet.js';
export { VaeAttention } from './attention.js';
export { DownEncoderBlock2D, UpDecoderBlock2D, Downsample2D, Upsample2D, UNetMidBlock2D } from './blocks.js';
export { loadAutoencoderKL, loadVaeWeights, openVaeCheckpoint, readVaeConfigFile, type LoadVaeOptions, type VaeCheckpoint, type VaeLoadReport } from './load.js';
export { detectVaeKeyLayout, diffusersVaeKey, vaeCheckpointReader, type VaeKeyLayout } from './vae-keys.js';
export { vaeFlops } from './flops.js';

export const packageName = '@mige/vae';
export * from './onnx-emitters.js';
