/** ONNX export of a MigeModel (one graph per component) and ORT sessions over the exported folder. */
export { exportModel, exportModelAsync, type ExportOnnxOptions } from './export-model.js';
export { OnnxSessions, type OnnxSessionsOptions, type OnnxSessionEvent } from './sessions.js';
export { buildComponentGraph, hasComponent, type ComponentGraph, type ComponentGraphOptions } from './graphs.js';
export {
  ONNX_COMPONENTS,
  COMPONENT_IO,
  onnxValueName,
  valueKey,
  type OnnxComponent,
  type OnnxComponentInputs,
  type OnnxComponentOutputs,
} from './components.js';
export {
  readOnnxManifest,
  ONNX_MANIFEST_FILE,
  ONNX_MANIFEST_FORMAT,
  ONNX_MANIFEST_VERSION,
  type OnnxManifest,
  type OnnxComponentEntry,
  type OnnxComponentPart,
  type OnnxGraphFile,
  type OnnxValueSpec,
} from './manifest.js';
export { onnxEngine, openOnnxEngine, flowComponents, captionLength, trimCaptionPadding, type OnnxFlowEngine } from './onnx-engine.js';
export { encodeInstructionsOnnx } from './onnx-encode.js';
export { MODEL_ONNX_SUBFOLDER, modelOnnxDir, attachOnnx, attachedOnnxDir, attachedOnnxEngine, detachOnnx } from './model-onnx.js';
export { convertToOnnx, loadOnnxModel, type ConvertOnnxOptions } from './convert-onnx.js';
