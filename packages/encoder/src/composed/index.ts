/** The composed instruction encoder: instructions + images → condition y, as MIGE's forward. */
export { MIGE_ENCODER, MIGE_ENCODER_TINY, type MigeEncoderConfig } from './config.js';
export { MigeEncoderModule } from './module.js';
export { MigeInstructionEncoder, type MixedEmbeddings } from './mige-instruction-encoder.js';
export { interleaveRow, type TokenEmbedder } from './interleave.js';
