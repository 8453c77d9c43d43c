import type { MigeModel } from '../model/index.js';
import { attachedOnnxDir, attachedOnnxEngine } from '../onnx/model-onnx.js';
import { tfjsEngine, type FlowEngine } from './engine.js';

/** FlowOptions.engine → the engine: absent means 'onnx' when the model has an export attached. */
export async function resolveEngine(model: MigeModel, engine: 'tfjs' | 'onnx' | FlowEngine | undefined): Promise<FlowEngine> {
  if (typeof engine === 'object') return engine;
  const choice = engine ?? (attachedOnnxDir(model) !== undefined ? 'onnx' : 'tfjs');
  return choice === 'onnx' ? attachedOnnxEngine(model) : tfjsEngine(model);
}
