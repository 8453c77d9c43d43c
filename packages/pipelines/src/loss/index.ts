/** The training loss: IDDPM's hybrid (mse + vb) loss with a learned-range variance (tables in diffusion/schedule.ts). */
export {
  hybridLoss,
  pMeanVariance,
  qPosteriorMeanVariance,
  qSample,
  vbTermsBpd,
  type HybridLoss,
  type HybridLossInput,
  type HybridLossOptions,
  type MseTarget,
  SNR_X0_BELOW,
  type ModelMeanVariance,
  type PosteriorMeanVariance,
} from './iddpm.js';
export { approxStandardNormalCdf, discretizedGaussianLogLikelihood, meanFlat, normalKl } from './likelihoods.js';
export { stopGradient } from './stop-gradient.js';
export { extractIntoTensor, timestepIndices, type TimestepIndices } from './timesteps.js';
