import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadOnnxRuntime, MigeInputError, tf, type OnnxRuntime } from '@mige/core';
import type * as Ort from 'onnxruntime-node';
import { COMPONENT_IO, onnxValueName, type OnnxComponent, type OnnxComponentInputs, type OnnxComponentOutputs } from './components.js';
import { readOnnxManifest, type OnnxComponentEntry, type OnnxManifest, type OnnxValueSpec } from './manifest.js';

/** The onnxruntime-node module (core's loadOnnxRuntime loads it, once, on first use). */
export type OrtModule = OnnxRuntime;

export interface OnnxSessionsOptions {
  /**
   * ORT execution providers in order of preference; default ['cpu']. With a CUDA build of
   * onnxruntime-node on Linux x64: `[{ name: 'cuda', deviceId: 0 }, 'cpu']`.
   */
  executionProviders?: Ort.InferenceSession.ExecutionProviderConfig[];
  /** Open only these components (default every one in the manifest). */
  components?: readonly OnnxComponent[];
  /** Further ORT session options (threads, graph optimisation level, ...). */
  sessionOptions?: Omit<Ort.InferenceSession.SessionOptions, 'executionProviders'>;
}

/**
 * The ORT sessions of an exported model folder (see exportModel), one per component, with a
 * typed, promise-based `run` taking and returning tf tensors. Runs never block the event loop
 * (ORT computes off the main thread), and independent components may run concurrently, which is
 * what an async inference engine needs. Inputs are checked against the manifest's shapes first.
 */
export class OnnxSessions {
  private constructor(
    readonly dir: string,
    readonly manifest: OnnxManifest,
    private readonly ort: OrtModule,
    private readonly sessions: Map<OnnxComponent, Ort.InferenceSession>,
  ) {}

  static async open(dir: string, options: OnnxSessionsOptions = {}): Promise<OnnxSessions> {
    const manifest = readOnnxManifest(dir);
    const ort = await loadOnnxRuntime('the onnx engine');
    const names = options.components ?? (Object.keys(manifest.components) as OnnxComponent[]);
    const sessions = new Map<OnnxComponent, Ort.InferenceSession>();
    try {
      for (const name of names) {
        const entry = manifest.components[name];
        if (!entry) throw new MigeInputError(`the manifest has no component '${name}'`, join(dir, 'manifest.json'));
        const path = join(dir, entry.file);
        if (!existsSync(path)) throw new MigeInputError(`ONNX file of component '${name}' not found`, path);
        try {
          const session = await ort.InferenceSession.create(path, { ...options.sessionOptions, executionProviders: options.executionProviders ?? ['cpu'] });
          sessions.set(name, session);
        } catch (error) {
          throw new MigeInputError(`cannot load ONNX model: ${errorText(error)}`, path);
        }
      }
    } catch (error) {
      await Promise.all([...sessions.values()].map((s) => s.release()));
      throw error;
    }
    return new OnnxSessions(dir, manifest, ort, sessions);
  }

  /** Whether `component` was opened. */
  has(component: OnnxComponent): boolean {
    return this.sessions.has(component);
  }

  /** Runs one component: tf inputs in, tf outputs out (float32; the caller disposes them). */
  async run<C extends OnnxComponent>(component: C, inputs: OnnxComponentInputs[C]): Promise<OnnxComponentOutputs[C]> {
    const session = this.sessions.get(component);
    const entry = this.manifest.components[component];
    if (!session || !entry) throw new MigeInputError(`component '${component}' is not open`, this.dir);
    const where = `OnnxSessions.run('${component}')`;
    const given = inputs as Record<string, tf.Tensor | undefined>;
    const io = COMPONENT_IO[component] as { inputs: readonly string[]; outputs: readonly string[] };
    checkInputs(entry, io.inputs.map((k) => given[k]), this.manifest.t5MaxLength, component, where);
    const feeds: Record<string, Ort.Tensor> = {};
    for (const key of io.inputs) {
      const t = given[key] as tf.Tensor;
      feeds[onnxValueName(key)] = new this.ort.Tensor('float32', await float32Data(t), t.shape);
    }
    let results: Ort.InferenceSession.OnnxValueMapType;
    try {
      results = await session.run(feeds);
    } catch (error) {
      throw new MigeInputError(`ONNX Runtime failed: ${errorText(error)}`, where);
    }
    const out: Record<string, tf.Tensor> = {};
    for (const key of io.outputs) {
      const r = results[onnxValueName(key)];
      if (r === undefined) continue; // optional outputs (variance without learnSigma)
      if (r.type !== 'float32' || !(r.data instanceof Float32Array)) throw new MigeInputError(`output '${onnxValueName(key)}' is not float32`, where);
      out[key] = tf.tensor(r.data, [...r.dims]);
    }
    return out as OnnxComponentOutputs[C];
  }

  /** Releases every session. */
  async release(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.release()));
    this.sessions.clear();
  }
}

/** Shapes against the manifest: fixed dims must match and each symbolic dim must agree across the inputs. */
function checkInputs(entry: OnnxComponentEntry, given: (tf.Tensor | undefined)[], t5MaxLength: number, component: OnnxComponent, where: string): void {
  const symbols = new Map<string, { size: number; input: string }>();
  entry.inputs.forEach((spec: OnnxValueSpec, i) => {
    const t = given[i];
    if (!(t instanceof tf.Tensor)) throw new MigeInputError(`input '${spec.name}' is missing`, where);
    const shown = `[${spec.shape.join(', ')}]`;
    if (t.rank !== spec.shape.length) throw new MigeInputError(`input '${spec.name}' has shape [${t.shape.join(', ')}], expected ${shown}`, where);
    spec.shape.forEach((d, axis) => {
      const size = t.shape[axis] as number;
      if (typeof d === 'number') {
        if (size !== d) throw new MigeInputError(`input '${spec.name}' has shape [${t.shape.join(', ')}], expected ${shown}`, where);
        return;
      }
      const seen = symbols.get(d);
      if (seen && seen.size !== size) throw new MigeInputError(`'${d}' is ${seen.size} in '${seen.input}' but ${size} in '${spec.name}'`, where);
      symbols.set(d, { size, input: spec.name });
      if (size === 0) throw new MigeInputError(`input '${spec.name}' has an empty '${d}' axis`, where);
    });
  });
  const length = symbols.get('sequence_length')?.size;
  if (component === 't5-encoder' && length !== undefined && length > t5MaxLength) {
    throw new MigeInputError(`the sequence has ${length} tokens; this export takes at most ${t5MaxLength} (t5MaxLength)`, where);
  }
}

/**
 * The values as a Float32Array. Other dtypes are cast; the cpu backend's int32 → float32 cast
 * keeps the Int32Array storage, which ORT refuses, so the values are copied then.
 */
async function float32Data(t: tf.Tensor): Promise<Float32Array> {
  if (t.dtype === 'float32') {
    const data = await t.data();
    return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  }
  const cast = tf.cast(t, 'float32');
  try {
    const data = await cast.data();
    return data instanceof Float32Array ? data : Float32Array.from(data as ArrayLike<number>);
  } finally {
    cast.dispose();
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
