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
  /**
   * 'all' (default): every session is created by `open` and kept until `release`. 'staged': a
   * component's session is created when it runs and released when another component runs (each
   * part of a split component right after its run), so only one stage's weights are in memory:
   * how official sizes fit (T5-XXL alone is 19 GB of float32). Runs must then come one at a time.
   */
  residency?: 'all' | 'staged';
  /** Told of every session load, run and release, with its duration (for benchmarks and logs). */
  onEvent?: (event: OnnxSessionEvent) => void;
}

/** One session operation of OnnxSessions. */
export interface OnnxSessionEvent {
  phase: 'load' | 'run' | 'release';
  component: OnnxComponent;
  /** The part's blocks, for a component split into parts. */
  blocks?: [number, number];
  ms: number;
}

/** A graph file of a component: the component's own, or one of its parts. */
interface GraphFile {
  path: string;
  blocks?: [number, number];
}

/**
 * The ORT sessions of an exported model folder (see exportModel), one per component (one per
 * part of a split component), with a typed, promise-based `run` taking and returning tf
 * tensors. Runs never block the event loop (ORT computes off the main thread). With residency
 * 'all', independent components may run concurrently; 'staged' loads and releases sessions as
 * the stages come (see OnnxSessionsOptions.residency). Inputs are checked against the
 * manifest's shapes first.
 */
export class OnnxSessions {
  private readonly sessions = new Map<string, Ort.InferenceSession>();
  /** The component whose sessions a staged run keeps. */
  private resident: OnnxComponent | undefined;

  private constructor(
    readonly dir: string,
    readonly manifest: OnnxManifest,
    private readonly ort: OrtModule,
    private readonly files: Map<OnnxComponent, GraphFile[]>,
    private readonly options: OnnxSessionsOptions,
  ) {}

  static async open(dir: string, options: OnnxSessionsOptions = {}): Promise<OnnxSessions> {
    const manifest = readOnnxManifest(dir);
    const ort = await loadOnnxRuntime('the onnx engine');
    const names = options.components ?? (Object.keys(manifest.components) as OnnxComponent[]);
    const files = new Map<OnnxComponent, GraphFile[]>();
    for (const name of names) {
      const entry = manifest.components[name];
      if (!entry) throw new MigeInputError(`the manifest has no component '${name}'`, join(dir, 'manifest.json'));
      const graphs = (entry.parts ?? [entry]).map((p) => ({ path: join(dir, p.file), ...('blocks' in p ? { blocks: p.blocks } : {}) }));
      for (const g of graphs) if (!existsSync(g.path)) throw new MigeInputError(`ONNX file of component '${name}' not found`, g.path);
      files.set(name, graphs);
    }
    const sessions = new OnnxSessions(dir, manifest, ort, files, options);
    if ((options.residency ?? 'all') === 'all') {
      try {
        for (const [name, graphs] of files) for (const g of graphs) await sessions.session(name, g);
      } catch (error) {
        await sessions.release();
        throw error;
      }
    }
    return sessions;
  }

  /** Whether `component` was opened. */
  has(component: OnnxComponent): boolean {
    return this.files.has(component);
  }

  /** Runs one component: tf inputs in, tf outputs out (float32; the caller disposes them). */
  async run<C extends OnnxComponent>(component: C, inputs: OnnxComponentInputs[C]): Promise<OnnxComponentOutputs[C]> {
    const graphs = this.files.get(component);
    const entry = this.manifest.components[component];
    if (!graphs || !entry) throw new MigeInputError(`component '${component}' is not open`, this.dir);
    const where = `OnnxSessions.run('${component}')`;
    const given = inputs as Record<string, tf.Tensor | undefined>;
    const io = COMPONENT_IO[component] as { inputs: readonly string[]; outputs: readonly string[] };
    checkInputs(entry, io.inputs.map((k) => given[k]), this.manifest.t5MaxLength, component, where);
    const staged = this.options.residency === 'staged';
    if (staged && this.resident !== component) {
      await this.release();
      this.resident = component;
    }
    const feeds: Record<string, Ort.Tensor> = {};
    for (const key of io.inputs) {
      const t = given[key] as tf.Tensor;
      feeds[onnxValueName(key)] = new this.ort.Tensor('float32', await float32Data(t), t.shape);
    }
    let results: Ort.InferenceSession.OnnxValueMapType = {};
    for (const [i, graph] of graphs.entries()) {
      // A part's output is the next part's first input (the hidden states); the other inputs stay.
      if (i > 0) feeds[onnxValueName(io.inputs[0] as string)] = results[onnxValueName(io.outputs[0] as string)] as Ort.Tensor;
      const session = await this.session(component, graph);
      const start = performance.now();
      try {
        results = await session.run(feeds);
      } catch (error) {
        throw new MigeInputError(`ONNX Runtime failed: ${errorText(error)}`, where);
      }
      this.emit('run', component, graph, start);
      if (staged && graphs.length > 1) await this.releaseOne(component, graph);
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

  /** Releases every session (a staged or a later run loads them again). */
  async release(): Promise<void> {
    for (const [component, graphs] of this.files) for (const g of graphs) await this.releaseOne(component, g);
    this.resident = undefined;
  }

  private async session(component: OnnxComponent, graph: GraphFile): Promise<Ort.InferenceSession> {
    const known = this.sessions.get(graph.path);
    if (known) return known;
    const start = performance.now();
    let session: Ort.InferenceSession;
    try {
      session = await this.ort.InferenceSession.create(graph.path, { ...this.options.sessionOptions, executionProviders: this.options.executionProviders ?? ['cpu'] });
    } catch (error) {
      throw new MigeInputError(`cannot load ONNX model: ${errorText(error)}`, graph.path);
    }
    this.sessions.set(graph.path, session);
    this.emit('load', component, graph, start);
    return session;
  }

  private async releaseOne(component: OnnxComponent, graph: GraphFile): Promise<void> {
    const session = this.sessions.get(graph.path);
    if (!session) return;
    const start = performance.now();
    this.sessions.delete(graph.path);
    await session.release();
    this.emit('release', component, graph, start);
  }

  private emit(phase: OnnxSessionEvent['phase'], component: OnnxComponent, graph: GraphFile, start: number): void {
    this.options.onEvent?.({ phase, component, ...(graph.blocks ? { blocks: graph.blocks } : {}), ms: performance.now() - start });
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
