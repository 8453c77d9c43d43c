/** Training: the joint loop, its data, condition dropout, EMA, checkpoints, progress logging. */
export {
  applyCfgDropout,
  cfgDropoutDecisions,
  MIGE_CFG_DROPOUT,
  validateCfgDropoutProbs,
  type CfgDropoutDecisions,
  type CfgDropoutInput,
  type CfgDropoutProbs,
} from './cfg-dropout.js';
export { editFocusWeights, type EditFocusOptions, type FocusOn } from './edit-focus.js';
export { Ema } from './ema.js';
export {
  LATEST_FILE,
  listCheckpoints,
  pruneCheckpoints,
  readCheckpoint,
  readLatest,
  resolveCheckpointDir,
  stepDirName,
  writeCheckpoint,
  type CheckpointContents,
  type CheckpointToWrite,
  type LoadedCheckpoint,
  type WriteCheckpointOptions,
} from './checkpoint-io.js';
export {
  createTrainLogger,
  formatBar,
  formatDuration,
  type LogStream,
  type TrainLogger,
  type TrainLoggerOptions,
  type TrainLogRecord,
} from './progress-log.js';
export { defaultTrainEngine, train, type TrainOptions, type TrainResult } from './trainer.js';
export { emaWarmupDecay } from './tfjs-engine.js';
export { TRAIN_ENGINES, type TrainEngineName, type TrainStepEngine, type EngineState, type EngineStepResult } from './engine.js';
export { REFERENCE_TRAIN_CONFIG, resolveTrainConfig, type TrainConfig } from './train-config.js';
export { datasetFromManifest, datasetFromSource, datasetFromWorld, datasetFromWorldSeed, trainTaskOf, PROMPT_TASK, TRAIN_TASKS, type ImageSizes, type TrainDataset, type TrainDatasetSource, type TrainExample, type TrainTask } from './train-data.js';
export { prepareTrainBatch, disposeTrainBatch, type TrainBatch } from './train-batch.js';
export { LatentCache } from './latent-cache.js';
export { batchLoss, drawStep, itemLosses, type DropoutConfig, type StepDraws } from './train-step.js';
export { shardRange } from './micro-batch.js';
