/** Evaluation on the synthetic world: detector, metrics, baselines, benchmark split and report. */
export { detectObjects, type DetectedObject, type DetectOptions } from './detect.js';
export { l1Distance, l2Distance } from './pixel-metrics.js';
export { objectFailure, objectScores, OBJECT_FAILURES, type ObjectFailure, type ObjectScores } from './object-metrics.js';
export { blankCanvas, copySourceModel, groundTruthModel, type EvalModel } from './baselines.js';
export { evaluate, METRIC_NAMES, type EvalReport, type EvalSample, type EvaluateOptions, type MetricName, type ScoreRow } from './evaluate.js';
export { failureMarkdown, imageGrid, reportMarkdown, sampleGrid, writeReport } from './report.js';
export { captionScene } from './captions.js';
export {
  benchmarkSplit, splitExamples, DEFAULT_SPLIT_COUNTS, WORLD_GENERATOR_VERSION,
  type BenchmarkSplit, type SplitCase, type SplitManifest, type SplitOptions,
} from './split.js';
