/** Embedding metrics (DINO, CLIP-I, CLIP-T, CLIPdir) over ONNX image/text encoders. */
export { cosine, directionSimilarity, dot, l2Norm, l2Normalize, mean, subtract } from './math.js';
export { OnnxImageEncoder, type ImageEmbedder, type ImagePreprocessing } from './image-encoder.js';
export { OnnxTextEncoder, type TextEmbedder, type TextEncoderOptions, type Tokenize } from './text-encoder.js';
export { clipDirScores, clipIScores, clipTScores, dinoScores, type DirectionItem } from './metrics.js';
