/** The MIGE model: config, assembly, the MIGE.js model folder, official checkpoints and inputs. */
export { MIGE_XL, MIGE_TINY, MIGE_PRESETS, isMigePresetName, latentSizeOf, validateMigeConfig, type MigeConfig, type MigePresetName } from './config.js';
export { checkConfigBounds, checkTokenizerFits, estimateLargestActivation, estimateParameters, MAX_ACTIVATION_BYTES, MAX_PARAMETERS } from './config-bounds.js';
export { parseMigeConfig } from './config-json.js';
export {
  backboneTypes,
  buildBackbone,
  isDitConfig,
  registerBackbone,
  unregisterBackbone,
  validateBackboneConfig,
  type BackboneConfig,
  type BackboneConfigBase,
  type BackboneFactory,
  type CustomBackboneConfig,
} from './backbones.js';
export { packageRoot, tinyTokenizer, tinyTokenizerPath } from './assets.js';
export { MigeModel, FFM_PREFIX, T5_TIED_ALIAS, type CreateMigeOptions, type MigeLoadOptions, type MigeParameterCounts } from './mige-model.js';
export {
  saveModel,
  loadModel,
  loadModelWeights,
  openModelFolderWeights,
  readModelConfig,
  writeModelConfig,
  modelTensors,
  describeWeightProblems,
  MODEL_FORMAT,
  MODEL_FORMAT_VERSION,
  MODEL_FILES,
  VAE_PREFIX,
  type LoadModelOptions,
} from './checkpoint.js';
export { loadOfficialCheckpoint, convertCheckpoint, openCheckpointWeights, type ConvertSources } from './official.js';
export { modelWeights, readerParamSource, type ModelWeights } from './weights.js';
export { prepareImages, encodeLatents, encodeInstructions, type Instruction, type LatentMode, type EncodeInstructionsOptions } from './inputs.js';
export { resolveModelSource, type ModelSource } from './model-ref.js';
export { DEFAULT_MODEL_NAME, DEFAULT_MODEL_PACKAGE, defaultModelDir, findDefaultModelDir, hasDefaultModel, loadDefaultModel } from './default-model.js';
export { parseSamplingDefaults, readSamplingDefaults, SAMPLING_FILE, samplingDefaults, setSamplingDefaults, type FlowSampling, type SamplingDefaults } from './sampling.js';
