/**
 * PIL's `Image.convert('RGB')` applied to decoded pixel buffers. PIL drops alpha (no compositing
 * onto a background), replicates grey, clips 16-bit grey to 255 and converts CMYK naively.
 */

/** 8-bit pixels with 1 (grey), 2 (grey + alpha), 3 (RGB) or 4 (RGBA) interleaved channels → RGB. */
export function channelsToRgb(src: Uint8Array, pixels: number, channels: number): Uint8Array {
  if (channels === 3) {
    // A plain Uint8Array (not a Buffer) that owns exactly its pixels.
    const whole = src.byteOffset === 0 && src.buffer.byteLength === pixels * 3;
    return whole ? new Uint8Array(src.buffer, 0, pixels * 3) : new Uint8Array(src.subarray(0, pixels * 3));
  }
  const out = new Uint8Array(pixels * 3);
  const grey = channels < 3;
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += channels, o += 3) {
    if (grey) {
      const v = src[s]!;
      out[o] = v;
      out[o + 1] = v;
      out[o + 2] = v;
    } else {
      out[o] = src[s]!;
      out[o + 1] = src[s + 1]!;
      out[o + 2] = src[s + 2]!;
    }
  }
  return out;
}

/**
 * 16-bit grey (first of `channels` channels) → RGB the way PIL does: PIL opens such PNGs in mode
 * I / I;16 and its I→RGB conversion clips at 255 instead of scaling (Convert.c, i2rgb / I16_RGB).
 */
export function grey16ToRgb(src: Uint16Array, pixels: number, channels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, o = 0; i < pixels; i++, o += 3) {
    const v = Math.min(src[i * channels]!, 255);
    out[o] = v;
    out[o + 1] = v;
    out[o + 2] = v;
  }
  return out;
}

/** CMYK → RGB with PIL's formula (Convert.c, cmyk2rgb): r = k' - c * k' / 255, k' = 255 - k. */
export function cmykToRgb(src: Uint8Array, pixels: number): Uint8Array {
  const out = new Uint8Array(pixels * 3);
  for (let i = 0, s = 0, o = 0; i < pixels; i++, s += 4, o += 3) {
    const nk = 255 - src[s + 3]!;
    for (let c = 0; c < 3; c++) {
      // MULDIV255(a, b) = ((a*b + 128) + ((a*b + 128) >> 8)) >> 8
      const t = src[s + c]! * nk + 128;
      out[o + c] = nk - (((t >> 8) + t) >> 8);
    }
  }
  return out;
}
