/** LAVIS eva_vit.VisionTransformer hyper-parameters (the reference's argument names in the docs). */
export interface EvaViTConfig {
  /** img_size: square input side in pixels */
  imgSize: number;
  /** patch_size */
  patchSize: number;
  /** embed_dim */
  embedDim: number;
  /** depth */
  depth: number;
  /** num_heads */
  numHeads: number;
  /** mlp_ratio: the MLP is int(embedDim · mlpRatio) wide */
  mlpRatio: number;
}

/** EVA ViT-g as BLIP-2 / MIGE build it (create_eva_vit_g: 39 of EVA's 40 blocks, ~1B parameters). */
export const EVA_VIT_G: EvaViTConfig = { imgSize: 224, patchSize: 14, embedDim: 1408, depth: 39, numHeads: 16, mlpRatio: 4.3637 };

/** The `eva_vit` golden fixture's config. */
export const EVA_VIT_TINY: EvaViTConfig = { imgSize: 28, patchSize: 14, embedDim: 48, depth: 2, numHeads: 4, mlpRatio: 4.3637 };

/** int(embed_dim · mlp_ratio): 6144 for ViT-g, 209 for the tiny fixture. */
export function evaMlpHidden(c: EvaViTConfig): number {
  return Math.trunc(c.embedDim * c.mlpRatio);
}
