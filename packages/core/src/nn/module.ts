import * as tf from '@tensorflow/tfjs-core';
import { MigeInputError } from '../errors.js';
import { isMetaTensor } from './init.js';

/** A state-dict entry: a tensor, or plain data as the weights readers return it. */
export type StateDictValue =
  | tf.Tensor
  | { dtype: 'float32' | 'int32'; shape: number[]; data: Float32Array | Int32Array };
export type StateDict = Map<string, StateDictValue>;

/**
 * A lazy source of named tensors (SafetensorsReader and PthReader are ones): loadStateDict
 * checks every name and shape first, then reads one tensor at a time, so a checkpoint is never
 * held in memory twice.
 */
export interface TensorReader {
  keys(): Iterable<string>;
  info(name: string): { shape: readonly number[] };
  read(name: string): StateDictValue;
}

/** A reader whose keys are renamed by `rename` (undefined drops a key): one mapping per layout. */
export function renameKeys(source: StateDict | TensorReader, rename: (key: string) => string | undefined): TensorReader {
  const src = asReader(source);
  const map = new Map<string, string>();
  for (const k of src.keys()) {
    const n = rename(k);
    if (n === undefined) continue;
    if (map.has(n)) throw new MigeInputError(`keys ${map.get(n)} and ${k} both map to ${n}`, 'renameKeys');
    map.set(n, k);
  }
  const original = (n: string): string => {
    const k = map.get(n);
    if (k === undefined) throw new MigeInputError(`no tensor named ${n}`, 'renameKeys');
    return k;
  };
  return { keys: () => map.keys(), info: (n) => src.info(original(n)), read: (n) => src.read(original(n)) };
}

function asReader(sd: StateDict | TensorReader): TensorReader {
  if (!(sd instanceof Map)) return sd;
  const get = (k: string): StateDictValue => {
    const v = sd.get(k);
    if (!v) throw new MigeInputError(`no tensor named ${k}`, 'state dict');
    return v;
  };
  return { keys: () => sd.keys(), info: (k) => get(k), read: get };
}

export interface LoadReport {
  /** Keys the module has and the state dict lacks. */
  missing: string[];
  /** Keys the state dict has and the module lacks. */
  unexpected: string[];
  /** Keys present in both with different shapes. */
  mismatched: { key: string; expected: number[]; actual: number[] }[];
}

export interface LoadOptions {
  /** Throw when anything is missing, unexpected or misshapen (default true). */
  strict?: boolean;
  /** Label for errors, such as the checkpoint path. */
  source?: string;
}

/**
 * A PyTorch-like module tree. Children and parameters are registered under the attribute names
 * the PyTorch reference uses, so `stateDict()` keys equal the reference's `state_dict()` keys
 * and checkpoints map 1:1. Parameters are tf.Variables; buffers are plain tensors that are
 * saved but never trained (PyTorch's persistent buffers).
 */
export class Module {
  private readonly _params = new Map<string, tf.Variable>();
  private readonly _buffers = new Map<string, tf.Tensor>();
  private readonly _children = new Map<string, Module>();
  protected training = true;

  /** Registers a child module under `name` and returns it. */
  protected module<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  /** Registers a trainable parameter under `name`, taking ownership of `init`. */
  protected param(name: string, init: tf.Tensor): tf.Variable {
    // A shape-only init (withoutWeights) becomes a shape-only Variable, unknown to the engine.
    const v = isMetaTensor(init) ? new tf.Variable(init, true, `meta${init.id}`, init.id) : tf.variable(init, true);
    if (v !== (init as unknown) && !isMetaTensor(init)) init.dispose();
    this._params.set(name, v);
    return v;
  }

  /** False when a parameter of this subtree has no data (built with withoutWeights and never loaded). */
  hasWeights(): boolean {
    return this.namedParameters().every(([, p]) => !isMetaTensor(p));
  }

  /** Registers a persistent, non-trainable buffer (saved in the state dict). */
  protected buffer(name: string, t: tf.Tensor): tf.Tensor {
    tf.keep(t);
    this._buffers.set(name, t);
    return t;
  }

  protected getBuffer(name: string): tf.Tensor {
    const b = this._buffers.get(name);
    if (!b) throw new Error(`no buffer ${name}`);
    return b;
  }

  *namedChildren(): IterableIterator<[string, Module]> {
    yield* this._children.entries();
  }

  /** All parameters with PyTorch's dotted names, in registration order. */
  namedParameters(prefix = ''): [string, tf.Variable][] {
    const out: [string, tf.Variable][] = [];
    for (const [n, p] of this._params) out.push([prefix + n, p]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, tf.Tensor][] {
    const out: [string, tf.Tensor][] = [];
    for (const [n, b] of this._buffers) out.push([prefix + n, b]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): tf.Variable[] {
    return this.namedParameters().map(([, p]) => p);
  }

  /** Trainable parameters only (what an optimiser updates). */
  trainableParameters(): [string, tf.Variable][] {
    return this.namedParameters().filter(([, p]) => p.trainable);
  }

  numParameters(onlyTrainable = false): number {
    return this.namedParameters()
      .filter(([, p]) => !onlyTrainable || p.trainable)
      .reduce((n, [, p]) => n + p.size, 0);
  }

  /** Freezes (false) or unfreezes (true) every parameter of this subtree. */
  requiresGrad(flag: boolean): this {
    for (const [, p] of this.namedParameters()) p.trainable = flag;
    return this;
  }

  train(mode = true): this {
    this.training = mode;
    for (const [, c] of this._children) c.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  get isTraining(): boolean {
    return this.training;
  }

  /**
   * Parameters and buffers by dotted name (the tensors themselves, not copies), in PyTorch's
   * order: each module's parameters, then its buffers, then its children.
   */
  stateDict(prefix = '', into = new Map<string, tf.Tensor>()): Map<string, tf.Tensor> {
    for (const [n, p] of this._params) into.set(prefix + n, p);
    for (const [n, b] of this._buffers) into.set(prefix + n, b);
    for (const [n, c] of this._children) c.stateDict(`${prefix}${n}.`, into);
    return into;
  }

  /**
   * Copies values from `sd` into this module's parameters and buffers. Reports every missing,
   * unexpected and misshapen key by name; with `strict` (the default) any of them is an error
   * and nothing is changed.
   */
  loadStateDict(source: StateDict | TensorReader, options: LoadOptions = {}): LoadReport {
    const sd = asReader(source);
    const strict = options.strict ?? true;
    const own = new Map<string, { tensor: tf.Tensor; assign: (t: tf.Tensor) => void }>();
    for (const [n, p] of this.namedParameters()) own.set(n, { tensor: p, assign: (t) => p.assign(t) });
    for (const b of this.namedBuffersWithOwner()) own.set(b.name, { tensor: b.tensor, assign: b.assign });
    const report = this.stateDictReport(sd);
    const keys = [...sd.keys()];
    const bad = report.missing.length + report.unexpected.length + report.mismatched.length;
    if (strict && bad > 0) throw new MigeInputError(describeLoadReport(report), options.source ?? 'loadStateDict');

    const mismatchedKeys = new Set(report.mismatched.map((m) => m.key));
    for (const key of keys) {
      const target = own.get(key);
      // A value that is the target itself (a module's own state dict) needs no copy; tfjs's
      // Variable.assign of itself would free its own data.
      if (!target || mismatchedKeys.has(key)) continue;
      const value = sd.read(key);
      if (value === target.tensor) continue;
      tf.tidy(() => {
        const t = value instanceof tf.Tensor ? value : tf.tensor(value.data, value.shape, value.dtype);
        target.assign(t.dtype === target.tensor.dtype ? t : tf.cast(t, target.tensor.dtype));
      });
    }
    return report;
  }

  /** How `source` matches this module (missing, unexpected and misshapen keys), reading no tensor. */
  stateDictReport(source: StateDict | TensorReader): LoadReport {
    const sd = asReader(source);
    // Parameters first, then buffers: the order the report has always listed them in.
    const own = new Map<string, tf.Tensor>([...this.namedParameters(), ...this.namedBuffers()]);
    const report: LoadReport = { missing: [], unexpected: [], mismatched: [] };
    const keys = [...sd.keys()];
    const present = new Set(keys);
    for (const key of own.keys()) if (!present.has(key)) report.missing.push(key);
    for (const key of keys) {
      const target = own.get(key);
      if (!target) {
        report.unexpected.push(key);
        continue;
      }
      const shape = sd.info(key).shape;
      if (!sameShape(target.shape, shape)) report.mismatched.push({ key, expected: [...target.shape], actual: [...shape] });
    }
    return report;
  }

  private namedBuffersWithOwner(prefix = ''): { name: string; tensor: tf.Tensor; assign: (t: tf.Tensor) => void }[] {
    const out: { name: string; tensor: tf.Tensor; assign: (t: tf.Tensor) => void }[] = [];
    for (const [n, b] of this._buffers) {
      out.push({
        name: prefix + n,
        tensor: b,
        assign: (t) => {
          const old = this._buffers.get(n);
          this._buffers.set(n, tf.keep(t.clone()));
          old?.dispose();
          this.onBufferLoaded(n);
        },
      });
    }
    for (const [n, c] of this._children) out.push(...c.namedBuffersWithOwner(`${prefix}${n}.`));
    return out;
  }

  /** Called after a buffer was replaced by loadStateDict, for modules that cache it. */
  protected onBufferLoaded(_name: string): void {}

  /** Frees every parameter and buffer of this subtree. */
  dispose(): void {
    for (const [, p] of this._params) p.dispose();
    for (const [, b] of this._buffers) b.dispose();
    for (const [, c] of this._children) c.dispose();
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function describeLoadReport(r: LoadReport): string {
  const parts: string[] = [];
  if (r.missing.length) parts.push(`missing keys: ${r.missing.join(', ')}`);
  if (r.unexpected.length) parts.push(`unexpected keys: ${r.unexpected.join(', ')}`);
  for (const m of r.mismatched) parts.push(`shape mismatch for ${m.key}: expected [${m.expected}], got [${m.actual}]`);
  return `state dict does not match the module: ${parts.join('; ')}`;
}

/** PyTorch's nn.ModuleList: children named 0, 1, 2, ... */
export class ModuleList<M extends Module> extends Module {
  readonly items: M[];
  constructor(items: M[]) {
    super();
    this.items = items.map((m, i) => this.module(String(i), m));
  }
  get length(): number {
    return this.items.length;
  }
  at(i: number): M {
    const m = this.items[i];
    if (!m) throw new RangeError(`ModuleList index ${i} out of range (${this.items.length})`);
    return m;
  }
  [Symbol.iterator](): IterableIterator<M> {
    return this.items[Symbol.iterator]();
  }
}
