/**
 * @mige/encoder: MIGE's multimodal instruction encoder parts: instruction parsing and layout,
 * the T5 tokenizer, and the T5 encoder, EVA ViT-g and BLIP-2 Q-Former networks. See README.md.
 */
export const packageName = '@mige/encoder';

export * from './instruction/index.js';
export * from './tokenizer/index.js';
export * from './models/index.js';
export * from './composed/index.js';
export * from './models/onnx-emitters.js';
