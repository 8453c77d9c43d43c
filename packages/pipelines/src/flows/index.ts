/** Inference flows: subject-driven generation, instruction-based editing, compositional editing. */
export { generate, edit, compose } from './flows.js';
export { FLOW_DEFAULTS, flowDefaultsOf, modelFlowDefaults, REFERENCE_SAMPLER, type FlowDefaults } from './defaults.js';
export { placeSourceInInstruction, SOURCE_PHRASES } from './edit-instruction.js';
export { resizeWithPadding } from './image-fit.js';
export { denoise, type DenoiseInput } from './denoise.js';
export { prepareItems, initialNoise, type FlowItem, type InstructionImage, type PreparedItems } from './prepare.js';
export type * from './types.js';
export { flowEvalModel } from './eval-model.js';
export { tfjsEngine, type FlowEngine, type OwnedLatentDistribution } from './engine.js';
export { prepareItemsWith } from './prepare.js';
