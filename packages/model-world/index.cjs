'use strict';
// This package's folder is the model folder (config.json, model.safetensors, tokenizer.json,
// sampling.json): pass modelDir to MigePipeline.fromPretrained or loadModel.
exports.modelDir = __dirname;
exports.modelName = 'mige-world';
