import { MigeInputError } from '@mige/core';
import type { MigeModel } from '../model/index.js';
import { attachedOnnxDir, attachedOnnxEngine } from '../onnx/model-onnx.js';
import { tfjsEngine, type FlowEngine } from './engine.js';

/** FlowOptions.engine → the engine: absent means 'onnx' when the model has an export attached. */
export async function resolveEngine(model: MigeModel, engine: 'tfjs' | 'onnx' | FlowEngine | undefined): Promise<FlowEngine> {
  if (typeof engine === 'object') return engine;
  const choice = engine ?? (attachedOnnxDir(model) !== undefined ? 'onnx' : 'tfjs');
  if (choice === 'tfjs' && !model.hasWeights()) {
    throw new MigeInputError(`model '${model.config.name}' has no TF.js weights (its folder holds only an ONNX export): run it with engine 'onnx'`, 'FlowOptions.engine');
  }
  return choice === 'onnx' ? attachedOnnxEngine(model) : tfjsEngine(model);
}
