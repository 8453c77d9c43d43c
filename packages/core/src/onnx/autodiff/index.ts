/** Reverse-mode differentiation of ONNX graphs built with OnnxBuilder (training graphs). */
export { addGradients, type GradientRequest } from './backward.js';
export { inferShapes, broadcastShapes, type ValueFacts } from './shapes.js';
export { gradientRule, sumTo } from './rules.js';
