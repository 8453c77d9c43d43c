/** ONNX export: a graph builder over a small protobuf codec of its own (proto.ts), a structural checker, and core's nn emitters. */
export { OnnxGraph, tensorParamSource, ONNX_OPSET, ONNX_IR_VERSION, type OnnxExternalModel, type OnnxStreamedExternalModel, type OnnxExternalTensor, type OnnxAttr, type OnnxDim, type OnnxElemType, type OnnxGraphOptions, type OnnxWeightType, type OnnxParamSource, type OnnxParamMode, type OnnxParamInfo, type OnnxValueInfo, type OnnxBackward, type OnnxCustomGradient } from './graph.js';
export { OnnxBuilder, type OnnxConvOptions } from './builder.js';
export { checkOnnxModel, type OnnxModelSummary } from './check.js';
export { float32ToFloat16Bits, float16BitsToFloat32 } from './fp16.js';
export * from '../nn/ops.onnx.js';
export * from '../nn/layers.onnx.js';
export * from '../nn/conv.onnx.js';
export * from '../nn/attention.onnx.js';
export { addGradients, inferShapes, type GradientRequest, type ValueFacts } from './autodiff/index.js';
export { widenToFloat64 } from './widen.js';
