import * as tf from '@tensorflow/tfjs-core';
import { onnx, type OnnxNs } from './proto.js';
import { MigeInputError } from '../errors.js';
import { float32ToFloat16Bits } from './fp16.js';

/** Element types the exported graphs use. */
export type OnnxElemType = 'float32' | 'float16' | 'float64' | 'int64' | 'int32' | 'bool';
/** A fixed size, or a symbolic (dynamic) axis name such as 'batch'. */
export type OnnxDim = number | string;
/** How float weights are stored: fp32, or fp16 with a Cast to float32 in front of their use. */
export type OnnxWeightType = 'fp32' | 'fp16';
/**
 * A node attribute: plain numbers are INT (ONNX attributes are typed, and axis/perm/stride
 * attributes far outnumber float ones); wrap floats as { f } / { floats }.
 */
export type OnnxAttr = number | string | readonly number[] | { f: number } | { floats: readonly number[] };

/** The graph's opset: 17 is the first with LayerNormalization. */
export const ONNX_OPSET = 17;
/** IR version 8 goes with opset 17 (ONNX 1.12+). */
export const ONNX_IR_VERSION = 8;

const DT = onnx.TensorProto.DataType;
const ELEM: Record<OnnxElemType, number> = { float32: DT.FLOAT, float16: DT.FLOAT16, float64: DT.DOUBLE, int64: DT.INT64, int32: DT.INT32, bool: DT.BOOL };

/** The model with its large initializers moved out: write `data` (in order) to the file `location` beside the model. */
export interface OnnxExternalModel {
  model: Uint8Array;
  location: string;
  /** The external file's content, in chunks. */
  data: Uint8Array[];
  dataBytes: number;
}

/** One tensor of an external data file: `pad` zero bytes, then its bytes (made when called). */
export interface OnnxExternalTensor {
  name: string;
  pad: number;
  bytes(): Uint8Array;
}

/** An external-data model whose data file is made tensor by tensor (see OnnxGraph.externalModel). */
export interface OnnxStreamedExternalModel {
  model: Uint8Array;
  location: string;
  dataBytes: number;
  /** The data file's content in order. */
  tensors: OnnxExternalTensor[];
}

/** External tensors start on this boundary, so the runtime can map them aligned. */
const EXTERNAL_ALIGN = 64;

/**
 * Where a graph's parameters (`OnnxGraph.param`) get their values: float32 data in the
 * parameter's own (state-dict) layout. `read` is called once per parameter, when the graph is
 * serialized, so a streamed source holds one tensor at a time.
 */
export interface OnnxParamSource {
  read(name: string, shape: readonly number[]): Float32Array;
}

/**
 * How parameters enter a graph: as initializers whose values come from `source` (inference
 * export), or as float32 graph inputs named by the parameter (training graphs, whose weights
 * change every step).
 */
export type OnnxParamMode = { mode: 'initializer'; source: OnnxParamSource } | { mode: 'input' };

/** A parameter a graph uses: its full name and shape. */
export interface OnnxParamInfo {
  name: string;
  shape: readonly number[];
  /** The graph value holding it as float32 (after the fp16 Cast, if any). */
  value: string;
}

export interface OnnxGraphOptions {
  /** The graph's name (also the default producer doc). */
  name: string;
  /** How `param` brings weights in; without it `param` throws. */
  params?: OnnxParamMode;
  /** Storage of float weights; default 'fp32'. */
  weightType?: OnnxWeightType;
  /** Written to the model's metadata_props (configs, versions). */
  metadata?: Record<string, string>;
  /**
   * Inference graphs for ONNX Runtime: emitters may use its fused operators (Gemm with the
   * bias for Linear, com.microsoft FastGelu and MultiHeadAttention), which skip the elementwise
   * passes and head transposes the standard ops make. Training graphs leave it off: the autodiff
   * differentiates standard operators only.
   */
  fusedOps?: boolean;
}

/**
 * An ONNX graph under construction: named inputs and outputs with fixed or symbolic axes,
 * initializers from tf tensors, nodes in topological order (each node's inputs must exist when
 * it is added, which keeps the graph valid by construction), and `serialize()` to a ModelProto
 * at opset 17. Values are referred to by name; the builder makes every generated name unique.
 */
export class OnnxGraph {
  readonly name: string;
  readonly weightType: OnnxWeightType;
  readonly fusedOps: boolean;
  private readonly nodes: OnnxNs.INodeProto[] = [];
  /**
   * Initializer headers and their bytes (or a loader that makes them at serialization, for
   * parameters), kept apart so they can go inline or to an external file.
   */
  private readonly initializers: Initializer[] = [];
  private readonly paramMode: OnnxParamMode | undefined;
  private readonly params = new Map<string, OnnxParamInfo>();
  private readonly inputs: OnnxNs.IValueInfoProto[] = [];
  private readonly outputs: OnnxNs.IValueInfoProto[] = [];
  private readonly defined = new Set<string>();
  private readonly shapes = new Map<string, readonly OnnxDim[]>();
  private readonly counters = new Map<string, number>();
  private readonly constants = new Map<string, string>();
  private readonly metadata: Record<string, string>;
  /** Operator domains besides the default one that nodes use (each imported at version 1). */
  private readonly domains = new Set<string>();

  constructor(options: OnnxGraphOptions) {
    this.name = options.name;
    this.weightType = options.weightType ?? 'fp32';
    this.fusedOps = options.fusedOps ?? false;
    this.metadata = { ...(options.metadata ?? {}) };
    this.paramMode = options.params;
  }

  /**
   * A parameter of the model, by its state-dict name and in its state-dict layout: emitters
   * transpose, slice or reshape it with graph ops, so the same graph serves inference
   * (initializers, folded by the runtime) and training (inputs, differentiable). Repeated names
   * return the same value (a shared weight is one parameter).
   */
  param(name: string, shape: readonly number[]): string {
    const known = this.params.get(name);
    if (known) {
      if (known.shape.join() !== shape.join()) {
        throw new MigeInputError(`parameter '${name}' is used with shape [${shape.join(', ')}] and [${known.shape.join(', ')}]`, `OnnxGraph ${this.name}`);
      }
      return known.value;
    }
    const mode = this.paramMode;
    if (!mode) throw new MigeInputError(`parameter '${name}' needs a parameter mode (options.params)`, `OnnxGraph ${this.name}`);
    let value: string;
    if (mode.mode === 'input') {
      value = this.input(name, shape);
    } else {
      const count = shape.reduce((a, b) => a * b, 1);
      const read = (): Float32Array => {
        const data = mode.source.read(name, shape);
        if (data.length !== count) {
          throw new MigeInputError(`parameter '${name}' has ${data.length} values for shape [${shape.join(', ')}]`, `OnnxGraph ${this.name}`);
        }
        return data;
      };
      if (this.weightType === 'fp32') {
        value = this.lazyInitializer(name, 'float32', shape, count * 4, () => bytesOf(read()));
      } else {
        const stored = this.lazyInitializer(`${name}_fp16`, 'float16', shape, count * 2, () => bytesOf(float32ToFloat16Bits(read())));
        value = this.node('Cast', [stored], { to: DT.FLOAT }, [this.uniqueName(name)])[0] as string;
      }
    }
    this.params.set(name, { name, shape: [...shape], value });
    return value;
  }

  private readonly noGradient = new Set<string>();
  private readonly regions: OnnxCustomGradient[] = [];

  /**
   * Emits a function with a gradient rule of its own (as torch.autograd.Function): `emit` builds
   * the forward from `inputs` and returns its output; the autodiff then does not differentiate
   * the nodes `emit` added but calls `backward` with the output's gradient, which returns one
   * gradient per input (undefined: none). Only the output may be used outside the region; the
   * backward may read any value the forward made (e.g. a sigmoid to reuse).
   */
  customGradient(inputs: readonly string[], emit: () => string, backward: OnnxBackward): string {
    const start = this.nodes.length;
    const output = emit();
    this.regions.push({ start, end: this.nodes.length, inputs: [...inputs], output, backward });
    return output;
  }

  private forwardEnd: number | undefined;

  /** The node count where the forward graph ends: now, the first time it is asked (the autodiff asks before adding nodes). */
  markForwardEnd(): number {
    this.forwardEnd ??= this.nodes.length;
    return this.forwardEnd;
  }

  /** The custom-gradient regions, in emission order (for the autodiff). */
  customGradients(): readonly OnnxCustomGradient[] {
    return this.regions;
  }

  /** Marks a value as a gradient barrier for the autodiff (see OnnxBuilder.stopGradient). */
  markNoGradient(value: string): void {
    this.noGradient.add(value);
  }

  isNoGradient(value: string): boolean {
    return this.noGradient.has(value);
  }

  /** The nodes so far, in order (the autodiff reads them and may add outputs to them). */
  nodeList(): OnnxNs.INodeProto[] {
    return this.nodes;
  }

  /** Declared graph inputs and outputs (name, element type, dims). */
  inputInfos(): OnnxValueInfo[] {
    return this.inputs.map(infoOf);
  }

  outputInfos(): OnnxValueInfo[] {
    return this.outputs.map(infoOf);
  }

  /**
   * The values of a constant initializer held in memory (int64, int32, bool or float32; not a
   * parameter's), with its dims; undefined for anything else.
   */
  constantValue(name: string): { dims: number[]; type: OnnxElemType; values: number[] } | undefined {
    const init = this.initializers.find((i) => i.proto.name === name);
    if (!init?.bytes) return undefined;
    const b = init.bytes;
    const dims = (init.proto.dims ?? []).map(Number);
    const view = (n: number): DataView => new DataView(b.buffer, b.byteOffset + n, b.byteLength - n);
    const count = b.byteLength;
    switch (init.proto.dataType) {
      case DT.INT64: return { dims, type: 'int64', values: Array.from({ length: count / 8 }, (_, i) => Number(view(0).getBigInt64(i * 8, true))) };
      case DT.INT32: return { dims, type: 'int32', values: Array.from({ length: count / 4 }, (_, i) => view(0).getInt32(i * 4, true)) };
      case DT.FLOAT: return { dims, type: 'float32', values: Array.from({ length: count / 4 }, (_, i) => view(0).getFloat32(i * 4, true)) };
      case DT.BOOL: return { dims, type: 'bool', values: Array.from(b) };
      default: return undefined;
    }
  }

  /** The element type and dims of an initializer (parameters included), or undefined. */
  initializerInfo(name: string): { dims: number[]; type: OnnxElemType } | undefined {
    const init = this.initializers.find((i) => i.proto.name === name);
    if (!init) return undefined;
    return { dims: (init.proto.dims ?? []).map(Number), type: ELEM_NAME.get(init.proto.dataType ?? 0) ?? 'float32' };
  }

  /** Adds outputs to an existing node (an operator's optional outputs, e.g. LayerNormalization's mean). */
  addNodeOutputs(node: OnnxNs.INodeProto, names: readonly string[]): void {
    for (const n of names) {
      if (this.defined.has(n)) throw new MigeInputError(`value '${n}' already exists`, `OnnxGraph ${this.name}`);
      this.define(n);
    }
    node.output = [...(node.output ?? []), ...names];
  }

  /** The parameters used so far, in first-use order. */
  paramInfos(): OnnxParamInfo[] {
    return [...this.params.values()];
  }

  /** A fresh value name based on `hint` ('x' → 'x', then 'x_1', ...). */
  uniqueName(hint: string): string {
    const n = this.counters.get(hint) ?? 0;
    this.counters.set(hint, n + 1);
    const name = n === 0 && !this.defined.has(hint) ? hint : `${hint}_${n}`;
    return this.defined.has(name) ? this.uniqueName(hint) : name;
  }

  /** Whether a value of that name exists. */
  has(name: string): boolean {
    return this.defined.has(name);
  }

  /** The shape recorded for an input, output or initializer (undefined for node outputs). */
  shapeOf(name: string): readonly OnnxDim[] | undefined {
    return this.shapes.get(name);
  }

  /** Declares a graph input; returns its name. */
  input(name: string, dims: readonly OnnxDim[], type: OnnxElemType = 'float32'): string {
    if (this.defined.has(name)) throw new MigeInputError(`value '${name}' already exists`, `OnnxGraph ${this.name}`);
    this.inputs.push(valueInfo(name, type, dims));
    this.define(name, dims);
    return name;
  }

  /** Declares `value` as the graph output `name` (through an Identity when the names differ). */
  output(value: string, name: string, dims: readonly OnnxDim[], type: OnnxElemType = 'float32'): void {
    const out = value === name ? value : this.node('Identity', [value], {}, [name])[0] as string;
    this.outputs.push(valueInfo(out, type, dims));
    this.shapes.set(out, dims);
  }

  /**
   * A float weight from a tf tensor (or data + dims), stored as `weightType`: fp16 adds the
   * fp16 initializer and a Cast to float32, so the rest of the graph computes in float32 on any
   * execution provider. Returns the float32 value's name.
   */
  weight(name: string, tensor: tf.Tensor | Float32Array, dims?: readonly number[]): string {
    // A copy: the cpu backend's dataSync returns the tensor's own storage.
    const data = tensor instanceof Float32Array ? tensor : (tf.tidy(() => tf.cast(tensor, 'float32').dataSync()) as Float32Array).slice();
    const shape = dims ?? (tensor instanceof Float32Array ? [data.length] : tensor.shape);
    if (shape.reduce((a, b) => a * b, 1) !== data.length) {
      throw new MigeInputError(`weight '${name}' has ${data.length} values for shape [${shape.join(', ')}]`, `OnnxGraph ${this.name}`);
    }
    if (this.weightType === 'fp32') return this.initializer(this.uniqueName(name), 'float32', shape, bytesOf(data));
    const stored = this.initializer(this.uniqueName(`${name}_fp16`), 'float16', shape, bytesOf(float32ToFloat16Bits(data)));
    return this.node('Cast', [stored], { to: DT.FLOAT }, [this.uniqueName(name)])[0] as string;
  }

  /** A float32 constant that stays float32 whatever `weightType` (tables, masks, scalars). */
  constantF32(name: string, data: Float32Array | readonly number[], dims: readonly number[]): string {
    return this.initializer(this.uniqueName(name), 'float32', dims, bytesOf(Float32Array.from(data)));
  }

  /** An int64 constant (shapes, axes, indices); identical 1-D ones are shared. */
  constantI64(values: readonly number[], dims: readonly number[] = [values.length], name = 'const_i64'): string {
    const key = `i64:${dims.join('x')}:${values.join(',')}`;
    const known = this.constants.get(key);
    if (known) return known;
    const out = this.initializer(this.uniqueName(name), 'int64', dims, bytesOf(BigInt64Array.from(values, (v) => BigInt(v))));
    this.constants.set(key, out);
    return out;
  }

  /** A float32 scalar constant, shared by value. */
  scalar(value: number): string {
    const key = `f32:${value}`;
    const known = this.constants.get(key);
    if (known) return known;
    const out = this.constantF32('scalar', [value], []);
    this.constants.set(key, out);
    return out;
  }

  /**
   * Adds a node; its inputs must already exist ('' marks an omitted optional input). Returns
   * the output names (fresh ones from `opType`, or `outputs` as given: a count or names).
   * `domain`: the operator's domain ('' is ONNX's own; 'com.microsoft' ONNX Runtime's).
   */
  node(opType: string, inputs: readonly string[], attrs: Record<string, OnnxAttr> = {}, outputs: number | readonly string[] = 1, domain = ''): string[] {
    for (const i of inputs) {
      if (i !== '' && !this.defined.has(i)) throw new MigeInputError(`${opType} input '${i}' is not defined yet`, `OnnxGraph ${this.name}`);
    }
    const names = typeof outputs === 'number' ? Array.from({ length: outputs }, () => this.uniqueName(opType.toLowerCase())) : [...outputs];
    for (const n of names) {
      if (this.defined.has(n)) throw new MigeInputError(`value '${n}' already exists`, `OnnxGraph ${this.name}`);
      this.define(n);
    }
    const attribute = Object.entries(attrs).map(([k, v]) => attributeProto(k, v));
    const node: OnnxNs.INodeProto = { opType, input: [...inputs], output: names, name: this.uniqueName(`${opType}_node`), attribute };
    if (domain !== '') {
      node.domain = domain;
      this.domains.add(domain);
    }
    this.nodes.push(node);
    return names;
  }

  /** Bytes of all initializers. */
  get initializerBytes(): number {
    return this.initializers.reduce((n, i) => n + i.byteLength, 0);
  }

  /** The ModelProto (IR 8, opset 17, and version 1 of any other domain used), every initializer inline. */
  toModelProto(): OnnxNs.ModelProto {
    return this.modelProto(this.initializers.map((i) => ({ ...i.proto, rawData: initializerBytes(i) })));
  }

  private modelProto(initializer: OnnxNs.ITensorProto[]): OnnxNs.ModelProto {
    return onnx.ModelProto.create({
      irVersion: ONNX_IR_VERSION,
      opsetImport: [{ domain: '', version: ONNX_OPSET }, ...[...this.domains].map((domain) => ({ domain, version: 1 }))],
      producerName: 'mige.js',
      producerVersion: '0',
      metadataProps: Object.entries(this.metadata).map(([key, value]) => ({ key, value })),
      graph: { name: this.name, node: this.nodes, initializer, input: this.inputs, output: this.outputs },
    });
  }

  /** The model as .onnx bytes (protobuf caps a message at 2 GiB: larger models need `serializeExternal`). */
  serialize(): Uint8Array {
    this.checkOutputs();
    return onnx.ModelProto.encode(this.toModelProto()).finish();
  }

  /**
   * The model with every initializer of at least `threshold` bytes stored in the external file
   * `location` (ONNX external data, resolved beside the model file), for models over protobuf's
   * 2 GiB limit. Tensors start on 64-byte boundaries. Collects the file's bytes in memory: see
   * `writeExternal` to stream them.
   */
  serializeExternal(location: string, threshold = 1024): OnnxExternalModel {
    const external = this.externalModel(location, threshold);
    const data = external.tensors.flatMap((t) => (t.pad ? [new Uint8Array(t.pad), t.bytes()] : [t.bytes()]));
    return { model: external.model, location, data, dataBytes: external.dataBytes };
  }

  /**
   * `serializeExternal` with the external file made on demand: the layout (offsets) follows from
   * the byte sizes alone, so the model is encoded first and each external tensor's bytes are made
   * (a parameter read from its source) only when asked for. Writing them one at a time keeps
   * peak memory at the largest tensor.
   */
  externalModel(location: string, threshold = 1024): OnnxStreamedExternalModel {
    this.checkOutputs();
    let offset = 0;
    const tensors: OnnxExternalTensor[] = [];
    const initializer = this.initializers.map((init) => {
      const { proto } = init;
      if (init.byteLength < threshold) return { ...proto, rawData: initializerBytes(init) };
      const pad = (EXTERNAL_ALIGN - (offset % EXTERNAL_ALIGN)) % EXTERNAL_ALIGN;
      offset += pad;
      tensors.push({ name: proto.name ?? '', pad, bytes: () => initializerBytes(init) });
      const entry = {
        ...proto,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(init.byteLength) },
        ],
      };
      offset += init.byteLength;
      return entry;
    });
    return { model: onnx.ModelProto.encode(this.modelProto(initializer)).finish(), location, dataBytes: offset, tensors };
  }

  /**
   * Stores parameters in the layout the graph uses them in: each parameter initializer (or its
   * fp16 Cast) read only by a Transpose is saved transposed, and the Transpose becomes an
   * Identity. The values the graph computes are the same; the runtime then has nothing to fold
   * when it loads the weights (ONNX Runtime would otherwise hold W and Wᵀ, and for fp16 also the
   * float32 copy, while it loads). For inference exports, after every node is added; the data is
   * still read lazily. Returns how many were folded.
   */
  foldParamTransposes(): number {
    const consumers = new Map<string, number>();
    const producer = new Map<string, OnnxNs.INodeProto>();
    for (const node of this.nodes) {
      for (const i of node.input ?? []) consumers.set(i, (consumers.get(i) ?? 0) + 1);
      for (const o of node.output ?? []) producer.set(o, node);
    }
    for (const o of this.outputs) consumers.set(o.name ?? '', (consumers.get(o.name ?? '') ?? 0) + 1);
    const lazy = new Map(this.initializers.filter((i) => i.load).map((i) => [i.proto.name ?? '', i]));
    const only = (value: string): boolean => consumers.get(value) === 1;
    let folded = 0;
    for (const node of this.nodes) {
      const input = node.input?.[0] ?? '';
      if (node.opType !== 'Transpose' || !only(input)) continue;
      const cast = producer.get(input);
      const init = lazy.get(input) ?? (cast?.opType === 'Cast' && only(cast.input?.[0] ?? '') ? lazy.get(cast.input?.[0] ?? '') : undefined);
      if (!init?.load) continue;
      const dims = (init.proto.dims ?? []).map(Number);
      const perm = (node.attribute?.find((a) => a.name === 'perm')?.ints ?? []).map(Number);
      if (perm.length !== dims.length) continue;
      const load = init.load;
      const size = init.byteLength / Math.max(1, dims.reduce((a, b) => a * b, 1));
      if (size !== 2 && size !== 4) continue;
      init.load = () => permuteElements(load(), dims, perm, size);
      init.proto = { ...init.proto, dims: perm.map((p) => dims[p] as number) };
      this.shapes.set(init.proto.name ?? '', init.proto.dims as number[]);
      node.opType = 'Identity';
      node.attribute = [];
      folded++;
    }
    return folded;
  }

  private checkOutputs(): void {
    if (this.outputs.length === 0) throw new MigeInputError('the graph has no outputs', `OnnxGraph ${this.name}`);
  }

  private initializer(name: string, type: OnnxElemType, dims: readonly number[], rawData: Uint8Array): string {
    this.initializers.push({ proto: { name, dataType: ELEM[type], dims: [...dims] }, bytes: rawData, byteLength: rawData.byteLength });
    this.define(name, dims);
    return name;
  }

  /** An initializer whose bytes are made by `load` when the graph is serialized. */
  private lazyInitializer(name: string, type: OnnxElemType, dims: readonly number[], byteLength: number, load: () => Uint8Array): string {
    if (this.defined.has(name)) throw new MigeInputError(`value '${name}' already exists`, `OnnxGraph ${this.name}`);
    this.initializers.push({ proto: { name, dataType: ELEM[type], dims: [...dims] }, load, byteLength });
    this.define(name, dims);
    return name;
  }

  private define(name: string, dims?: readonly OnnxDim[]): void {
    this.defined.add(name);
    if (dims) this.shapes.set(name, dims);
  }
}

interface Initializer {
  proto: OnnxNs.ITensorProto;
  /** The bytes, or `load` to make them when serializing (parameters from an OnnxParamSource). */
  bytes?: Uint8Array;
  load?: () => Uint8Array;
  byteLength: number;
}

function initializerBytes(i: Initializer): Uint8Array {
  const bytes = i.bytes ?? (i.load as () => Uint8Array)();
  if (bytes.byteLength !== i.byteLength) throw new Error(`initializer '${i.proto.name}' made ${bytes.byteLength} bytes, ${i.byteLength} expected`);
  return bytes;
}

/** Elements of `elementSize` bytes in row-major `dims`, transposed by `perm` (numpy's transpose). */
function permuteElements(bytes: Uint8Array, dims: readonly number[], perm: readonly number[], elementSize: number): Uint8Array {
  // Bit patterns are moved as integers (parameters are float32 or fp16).
  const View = elementSize === 4 ? Uint32Array : elementSize === 2 ? Uint16Array : Uint8Array;
  const count = bytes.byteLength / elementSize;
  // A typed view needs an aligned offset: copy when the bytes are not.
  const aligned = bytes.byteOffset % elementSize === 0 ? bytes : bytes.slice();
  const src = new View(aligned.buffer as ArrayBuffer, aligned.byteOffset, count);
  const dst = new View(count);
  const outDims = perm.map((p) => dims[p] as number);
  const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, b) => a * b, 1));
  if (dims.length === 2 && perm[0] === 1) {
    // [r, c] → [c, r] in 64×64 tiles, so reads and writes both stay in cache.
    const [r, c] = dims as [number, number];
    for (let i0 = 0; i0 < r; i0 += 64) {
      for (let j0 = 0; j0 < c; j0 += 64) {
        const i1 = Math.min(r, i0 + 64), j1 = Math.min(c, j0 + 64);
        for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) dst[j * r + i] = src[i * c + j] as number;
      }
    }
  } else {
    // The input offset of each output position, axis by axis (an odometer over the output).
    const inStrides = perm.map((p) => strides[p] as number);
    const rank = dims.length;
    const index = new Array<number>(rank).fill(0);
    for (let o = 0; o < count; o++) {
      let at = 0;
      for (let a = 0; a < rank; a++) at += (index[a] as number) * (inStrides[a] as number);
      dst[o] = src[at] as number;
      for (let a = rank - 1; a >= 0; a--) {
        index[a] = (index[a] as number) + 1;
        if ((index[a] as number) < (outDims[a] as number)) break;
        index[a] = 0;
      }
    }
  }
  return new Uint8Array(dst.buffer);
}

/** Little-endian bytes of a typed array (every supported host is little-endian, as ONNX raw_data). */
function bytesOf(a: Float32Array | Uint16Array | BigInt64Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

/** A custom gradient: (dOutput, context) → one gradient per input (undefined: none). */
export type OnnxBackward = (dOutput: string, inputs: readonly string[], output: string) => (string | undefined)[];

/** A region of nodes [start, end) that `customGradient` emitted, with its rule. */
export interface OnnxCustomGradient {
  start: number;
  end: number;
  inputs: string[];
  output: string;
  backward: OnnxBackward;
}

/** A graph input or output as declared. */
export interface OnnxValueInfo {
  name: string;
  type: OnnxElemType;
  dims: OnnxDim[];
}

const ELEM_NAME = new Map<number, OnnxElemType>(Object.entries(ELEM).map(([k, v]) => [v, k as OnnxElemType]));

function infoOf(v: OnnxNs.IValueInfoProto): OnnxValueInfo {
  const t = v.type?.tensorType;
  const dims = (t?.shape?.dim ?? []).map((d) => (d.dimParam ? d.dimParam : Number(d.dimValue ?? 0)));
  return { name: v.name ?? '', type: ELEM_NAME.get(t?.elemType ?? 0) ?? 'float32', dims };
}

function valueInfo(name: string, type: OnnxElemType, dims: readonly OnnxDim[]): OnnxNs.IValueInfoProto {
  const dim = dims.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d }));
  return { name, type: { tensorType: { elemType: ELEM[type], shape: { dim } } } };
}

function attributeProto(name: string, v: OnnxAttr): OnnxNs.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (isIntList(v)) return { name, type: T.INTS, ints: [...v] };
  if ('f' in v) return { name, type: T.FLOAT, f: v.f };
  return { name, type: T.FLOATS, floats: [...v.floats] };
}

function isIntList(v: OnnxAttr): v is readonly number[] {
  return Array.isArray(v);
}

/**
 * An OnnxParamSource over tensors in memory (a module's namedParameters or state dict): each
 * parameter is read (as a float32 copy) when the graph is serialized.
 */
export function tensorParamSource(tensors: Iterable<readonly [string, tf.Tensor]>): OnnxParamSource {
  const byName = new Map(tensors);
  return {
    read(name, shape) {
      const t = byName.get(name);
      if (!t) throw new MigeInputError(`the model has no parameter '${name}'`, 'tensorParamSource');
      if (t.shape.join() !== shape.join()) throw new MigeInputError(`parameter '${name}' has shape [${t.shape.join(', ')}], the graph wants [${shape.join(', ')}]`, 'tensorParamSource');
      return (tf.tidy(() => tf.cast(t, 'float32').dataSync()) as Float32Array).slice();
    },
  };
}
