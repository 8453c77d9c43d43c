/**
 * An 8-bit RGB image in row-major HWC layout, the layout PIL and `np.asarray(pil_image)` use:
 * data[(y * width + x) * 3 + c], shape [height, width, 3], length height * width * 3.
 */
export interface RgbImage {
  width: number;
  height: number;
  data: Uint8Array;
}

/**
 * A float32 image in CHW layout, as one item of a torchvision tensor batch:
 * data[c * height * width + y * width + x], shape [3, height, width].
 */
export interface ChwImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** Per-channel (R, G, B) statistics for normalisation. */
export type RgbTriple = readonly [number, number, number];

/** Resampling filters with PIL's semantics (Image.NEAREST, Image.BILINEAR, Image.BICUBIC). */
export type ResampleFilter = 'nearest' | 'bilinear' | 'bicubic';

/** Image file formats that can be decoded and encoded. */
export type ImageFormat = 'png' | 'jpeg' | 'webp';
