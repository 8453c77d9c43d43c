/**
 * onnx-proto's `onnx` namespace. The package is CommonJS without named-export hints, so Node's
 * ESM loader only offers its default export: the value comes from there (both loaders accept
 * that), the types from the named export.
 */
import onnxProto from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';

export const onnx: typeof OnnxNs = onnxProto.onnx;
export type { OnnxNs };
