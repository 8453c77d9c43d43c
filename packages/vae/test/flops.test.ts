import { describe, expect, it } from 'vitest';
import { SD_VAE_FT_EMA, SD_VAE_TINY, vaeFlops } from '../src/index.js';

describe('vaeFlops', () => {
  it('counts every conv and product of the tiny VAE at 16 px, term by term', () => {
    const conv = (k: number, cin: number, cout: number, px: number) => 2 * k * k * cin * cout * px;
    // Mid block at 8×8 = 64 positions and 64 channels: two resnets and single-head attention.
    const mid = 4 * conv(3, 64, 64, 64) + 4 * 2 * 64 * 64 * 64 + 2 * 2 * 64 * 64 * 64;
    const encode =
      conv(3, 3, 32, 256) + // conv_in
      2 * conv(3, 32, 32, 256) + // down_blocks.0.resnets.0
      conv(3, 32, 32, 64) + // down_blocks.0.downsamplers.0 (stride 2)
      conv(3, 32, 64, 64) + conv(3, 64, 64, 64) + conv(1, 32, 64, 64) + // down_blocks.1.resnets.0 + shortcut
      mid +
      conv(3, 64, 8, 64) + // conv_out
      conv(1, 8, 8, 64); // quant_conv
    const decode =
      conv(1, 4, 4, 64) + // post_quant_conv
      conv(3, 4, 64, 64) + // conv_in
      mid +
      4 * conv(3, 64, 64, 64) + // up_blocks.0.resnets.0-1
      conv(3, 64, 64, 256) + // up_blocks.0.upsamplers.0
      conv(3, 64, 32, 256) + conv(3, 32, 32, 256) + conv(1, 64, 32, 256) + // up_blocks.1.resnets.0 + shortcut
      2 * conv(3, 32, 32, 256) + // up_blocks.1.resnets.1
      conv(3, 32, 3, 256); // conv_out
    expect(vaeFlops(SD_VAE_TINY, 16, 16)).toEqual({ encode, decode });
    expect(vaeFlops(SD_VAE_TINY, 16, 16, 3)).toEqual({ encode: 3 * encode, decode: 3 * decode });
  });

  it('puts SD-VAE at 512 px at about 1.1 TFLOP to encode and 2.5 TFLOP to decode', () => {
    const { encode, decode } = vaeFlops(SD_VAE_FT_EMA, 512, 512);
    expect(encode / 1e12).toBeCloseTo(1.12, 1);
    expect(decode / 1e12).toBeCloseTo(2.54, 1);
  });
});
