import { existsSync } from 'node:fs';
import { loadOnnxRuntime, MigeInputError, type OnnxRuntime } from '@mige/core';
import type * as Ort from 'onnxruntime-node';

type OrtModule = OnnxRuntime;
export type OrtTensor = Ort.Tensor;

/**
 * A thin wrapper over one ORT session: opening and running are the two places a user's model
 * file can be wrong, so both turn ORT's errors into MigeInputError naming the file.
 */
export class OnnxModel {
  private constructor(
    readonly path: string,
    private readonly ort: OrtModule,
    private readonly session: Ort.InferenceSession,
    readonly inputName: string,
    readonly outputName: string,
  ) {}

  static async open(path: string, inputName?: string, outputName?: string): Promise<OnnxModel> {
    // ORT's own message for a missing file is a bare errno; say what was looked for.
    if (!existsSync(path)) throw new MigeInputError('ONNX model file not found', path);
    // Imported only when a model is opened: the data format alone must not need (or pay for) ORT.
    const ort = await loadOnnxRuntime('the CLIP / DINO metrics');
    let session: Ort.InferenceSession;
    try {
      session = await ort.InferenceSession.create(path);
    } catch (error) {
      throw new MigeInputError(`cannot load ONNX model: ${errorText(error)}`, path);
    }
    const input = pickName(session.inputNames, inputName, 'input', path);
    const output = pickName(session.outputNames, outputName, 'output', path);
    return new OnnxModel(path, ort, session, input, output);
  }

  float32(data: Float32Array, dims: readonly number[]): OrtTensor {
    return new this.ort.Tensor('float32', data, dims);
  }

  int64(data: BigInt64Array, dims: readonly number[]): OrtTensor {
    return new this.ort.Tensor('int64', data, dims);
  }

  /** Runs the model on one input tensor and returns its chosen float32 output. */
  async run(input: OrtTensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
    let results: Ort.InferenceSession.OnnxValueMapType;
    try {
      results = await this.session.run({ [this.inputName]: input });
    } catch (error) {
      throw new MigeInputError(
        `running the model on input [${input.dims.join(', ')}] failed: ${errorText(error)}`,
        this.path,
      );
    }
    const out = results[this.outputName];
    if (!(out instanceof this.ort.Tensor) || out.type !== 'float32' || !(out.data instanceof Float32Array)) {
      throw new MigeInputError(`output '${this.outputName}' is not a float32 tensor`, this.path);
    }
    return { data: out.data, dims: out.dims };
  }

  async close(): Promise<void> {
    await this.session.release();
  }
}

function pickName(names: readonly string[], wanted: string | undefined, kind: string, path: string): string {
  if (wanted !== undefined) {
    if (!names.includes(wanted)) {
      throw new MigeInputError(`model has no ${kind} named '${wanted}' (has: ${names.join(', ')})`, path);
    }
    return wanted;
  }
  const first = names[0];
  if (first === undefined) throw new MigeInputError(`model has no ${kind}s`, path);
  return first;
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * Splits a float32 output into N L2-normalised rows (CLIP/DINO metrics compare directions).
 * [N, D] is used as is; [N, T, D] (a ViT's last_hidden_state, as DINO is usually exported) gives
 * the CLS token, row 0 of each item, which is what the DINO metric compares.
 */
export function splitRows(data: Float32Array, dims: readonly number[], batch: number, path: string): Float32Array[] {
  const [n, a, b] = dims;
  const count = dims.reduce((x, y) => x * y, 1);
  if (n !== batch || count !== data.length || a === undefined || dims.length > 3) {
    throw new MigeInputError(`output shape [${dims.join(', ')}] is not [${batch}, D] or [${batch}, T, D]`, path);
  }
  const d = b ?? a;
  const stride = data.length / batch;
  const rows: Float32Array[] = [];
  for (let i = 0; i < batch; i++) {
    const row = data.subarray(i * stride, i * stride + d);
    let s = 0;
    for (let j = 0; j < d; j++) s += row[j]! * row[j]!;
    const norm = Math.sqrt(s);
    const out = new Float32Array(d);
    if (norm > 0) for (let j = 0; j < d; j++) out[j] = row[j]! / norm;
    rows.push(out);
  }
  return rows;
}
