/** MigePipeline: MIGE as one object (fromPretrained → generate / edit / compose), over the flows. */
export { MigePipeline, OUTPUT_TYPES, type FromPretrainedOptions, type OutputImages, type OutputType, type PipelineCallOptions, type PipelineOutput } from './mige-pipeline.js';
