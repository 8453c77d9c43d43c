import { emitConv2d, type OnnxBuilder } from '@mige/core';
import type { AutoencoderKL } from './autoencoder-kl.js';
import { emitDownEncoderBlock2D, emitUNetMidBlock2D, emitUpDecoderBlock2D } from './blocks.onnx.js';
import type { Decoder } from './decoder.js';
import type { Encoder } from './encoder.js';
import { emitNormSilu } from './resnet.onnx.js';

/** diffusers Encoder: images [B, in, H, W] → moments [B, 2·latent, H/f, W/f] (before quant_conv). */
export function emitVaeEncoder(g: OnnxBuilder, m: Encoder, x: string, name: string): string {
  let h = emitConv2d(g, m.convIn, x, `${name}.conv_in`);
  m.downBlocks.items.forEach((b, i) => (h = emitDownEncoderBlock2D(g, b, h, `${name}.down_blocks.${i}`)));
  h = emitUNetMidBlock2D(g, m.midBlock, h, `${name}.mid_block`);
  h = emitNormSilu(g, m.convNormOut, h, `${name}.conv_norm_out`);
  return emitConv2d(g, m.convOut, h, `${name}.conv_out`);
}

/** diffusers Decoder: z [B, latent, h, w] (after post_quant_conv) → images [B, out, h·f, w·f]. */
export function emitVaeDecoder(g: OnnxBuilder, m: Decoder, z: string, name: string): string {
  let h = emitConv2d(g, m.convIn, z, `${name}.conv_in`);
  h = emitUNetMidBlock2D(g, m.midBlock, h, `${name}.mid_block`);
  m.upBlocks.items.forEach((b, i) => (h = emitUpDecoderBlock2D(g, b, h, `${name}.up_blocks.${i}`)));
  h = emitNormSilu(g, m.convNormOut, h, `${name}.conv_norm_out`);
  return emitConv2d(g, m.convOut, h, `${name}.conv_out`);
}

/** AutoencoderKL.encodeMoments: images [B, in, H, W] in [-1, 1] → moments [B, 2·latent, H/f, W/f] (mean ‖ logvar, unclamped). */
export function emitVaeEncodeMoments(g: OnnxBuilder, vae: AutoencoderKL, images: string): string {
  const h = emitVaeEncoder(g, vae.encoder, images, 'encoder');
  return vae.quantConv ? emitConv2d(g, vae.quantConv, h, 'quant_conv') : h;
}

/** AutoencoderKL.decode: unscaled latents [B, latent, h, w] → images [B, out, h·f, w·f] (not clamped). */
export function emitVaeDecode(g: OnnxBuilder, vae: AutoencoderKL, latents: string): string {
  const z = vae.postQuantConv ? emitConv2d(g, vae.postQuantConv, latents, 'post_quant_conv') : latents;
  return emitVaeDecoder(g, vae.decoder, z, 'decoder');
}
