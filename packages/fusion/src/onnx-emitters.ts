/** The fusion module's ONNX emitters. */
export { emitFFM, emitProjectionMlp } from './ffm.onnx.js';
export { emitFfmFusion } from './fusion.onnx.js';
