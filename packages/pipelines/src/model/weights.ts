import { MigeInputError, nn, tensorParamSource, tf, type OnnxParamSource } from '@mige/core';
import { describeWeightProblems } from './checkpoint.js';
import type { MigeModel } from './mige-model.js';

/**
 * Where the ONNX export reads a model's weights, one tensor at a time, when it serializes each
 * graph: MIGE's tensors under the official names and the VAE's under diffusers' names. A model
 * held in TF.js is one source (`modelWeights`); checkpoint files read tensor by tensor are the
 * other (`openModelFolderWeights`, `openCheckpointWeights`), which is how models too big to hold
 * (T5-XXL's 19 GB) are exported: peak memory is one tensor.
 */
export interface ModelWeights {
  mige: OnnxParamSource;
  vae: OnnxParamSource;
  /** Closes the files (nothing for tensors in memory). */
  close(): void;
}

/** The weights of a model held in TF.js (today's export). */
export function modelWeights(model: MigeModel): ModelWeights {
  return { mige: tensorParamSource(model.namedParameters()), vae: tensorParamSource(model.vae.namedParameters()), close: () => undefined };
}

/** A lazy reader as a param source: each tensor read when asked for, as float32, its shape checked. */
export function readerParamSource(reader: nn.TensorReader, where: string): OnnxParamSource {
  return {
    read(name, shape) {
      const info = reader.info(name);
      if (info.shape.join() !== shape.join()) throw new MigeInputError(`tensor ${name} has shape [${info.shape.join(', ')}], the graph wants [${shape.join(', ')}]`, where);
      const v = reader.read(name);
      if (v instanceof tf.Tensor) return (tf.tidy(() => tf.cast(v, 'float32').dataSync()) as Float32Array).slice();
      return v.data instanceof Float32Array ? v.data : Float32Array.from(v.data);
    },
  };
}

/**
 * Streams a model from readers into a skeleton (MigeModel.skeleton): `mige` and `vae` must match
 * it exactly (every problem of both reported at once, as loading does), the buffers (the DiT's
 * pos_embed and null caption: small) are loaded into the skeleton, and the parameters are left in
 * the files for the export to read.
 */
export function streamWeights(skeleton: MigeModel, mige: nn.TensorReader, vae: nn.TensorReader, where: string, close: () => void): ModelWeights {
  try {
    const planned = checkWeights(skeleton, mige, vae, where);
    const buffers = skeleton.bufferNames();
    skeleton.loadStateDict(nn.renameKeys(planned, (k) => (buffers.has(k) ? k : undefined)), { strict: false, source: where });
    return { mige: readerParamSource(planned, where), vae: readerParamSource(vae, where), close };
  } catch (error) {
    close();
    throw error;
  }
}

/**
 * Checks MIGE tensors (official names) and VAE tensors (diffusers names) against `model` without
 * reading any: throws a MigeInputError listing every missing, unexpected or misshapen tensor (VAE
 * ones under `vaePrefix`), else returns the MIGE reader under the model's own names.
 */
export function checkWeights(model: MigeModel, mige: nn.TensorReader, vae: nn.TensorReader, where: string, vaePrefix = 'vae.'): nn.TensorReader {
  const { reader, report: a } = model.planLoad(mige);
  const b = model.vae.stateDictReport(vae);
  const prefixed = (names: string[]) => names.map((n) => vaePrefix + n);
  const report: nn.LoadReport = {
    missing: [...a.missing, ...prefixed(b.missing)],
    unexpected: [...a.unexpected, ...prefixed(b.unexpected)],
    mismatched: [...a.mismatched, ...b.mismatched.map((m) => ({ ...m, key: vaePrefix + m.key }))],
  };
  if (report.missing.length + report.unexpected.length + report.mismatched.length > 0) throw new MigeInputError(describeWeightProblems(report), where);
  return reader;
}
