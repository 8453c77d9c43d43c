import { MigeInputError } from '../errors.js';
import {
  PickleDict,
  PickleGlobal,
  PickleTuple,
  TorchStorage,
  TorchTensor,
  pythonKind,
  type PickleValue,
  type TorchDType,
} from './pickle-values.js';

/** Keys under which training code nests the weights, in the order they are preferred. */
export const WRAPPER_KEYS = ['state_dict', 'model', 'module', 'ema'] as const;

/** Shared references can make a small pickle describe a huge tree; stop walking past this. */
const MAX_NODES = 1_000_000;
/**
 * Checkpoints nest a few levels (model.encoder.layer.0.w); a pickle of a million nested lists
 * would overflow the call stack of the recursive walks below, so deeper is refused.
 */
export const MAX_NESTING = 256;

function tooDeep(where: string): never {
  throw new MigeInputError(`the checkpoint is nested more than ${MAX_NESTING} levels deep: not a state dict`, where);
}

/** A tensor leaf of `PthReader.tree()`. */
export class PthTensorLeaf {
  constructor(
    readonly dtype: TorchDType,
    readonly shape: number[],
  ) {}
}

/** The whole checkpoint as plain data; tensors appear as PthTensorLeaf. */
export type PthTree =
  null | boolean | number | bigint | string | Uint8Array | PthTensorLeaf | PthTree[] | { [key: string]: PthTree };

function keyName(key: PickleValue, where: string, depth = 0): string {
  if (depth > MAX_NESTING) tooDeep(where);
  if (key instanceof PickleTuple) return `(${key.items.map((k) => keyName(k, where, depth + 1)).join(', ')})`;
  if (key === null) return 'None';
  return typeof key === 'object' ? `<${pythonKind(key)}>` : String(key);
}

function children(node: PickleValue, where: string): [string, PickleValue][] | undefined {
  if (node instanceof PickleDict) return node.size === 0 ? [] : [...node.entries].map(([k, v]) => [keyName(k, where), v]);
  if (Array.isArray(node)) return node.map((v, i) => [String(i), v]);
  if (node instanceof PickleTuple) return node.items.map((v, i) => [String(i), v]);
  return undefined;
}

function hasDirectTensor(dict: PickleDict): boolean {
  if (dict.size === 0) return false;
  for (const v of dict.entries.values()) if (v instanceof TorchTensor) return true;
  return false;
}

/** Follows `key` from the root: first as one key, else as a dotted path of keys. */
function lookup(root: PickleValue, key: string, where: string): PickleValue {
  if (root instanceof PickleDict && root.entries.has(key)) return root.entries.get(key) as PickleValue;
  let node = root;
  for (const part of key.split('.')) {
    const next = children(node, where)?.find(([name]) => name === part);
    if (!next) {
      const available =
        children(root, where)
          ?.map(([name]) => `'${name}'`)
          .join(', ') ?? 'none: the checkpoint is not a dict';
      throw new MigeInputError(`no key '${key}' in the checkpoint (top-level keys: ${available})`, where);
    }
    node = next[1];
  }
  return node;
}

/** Unwraps {'state_dict': {...}}-style wrappers while the top level holds no tensors itself. */
function unwrap(root: PickleValue): PickleValue {
  let node = root;
  for (;;) {
    if (!(node instanceof PickleDict) || hasDirectTensor(node)) return node;
    const dict: PickleDict = node;
    const key = WRAPPER_KEYS.find((k) => dict.entries.get(k) instanceof PickleDict);
    if (key === undefined) return node;
    node = dict.entries.get(key) as PickleValue;
  }
}

/**
 * The state dict: tensors of the selected (or unwrapped) sub-tree, nested containers flattened
 * with dotted names. Non-tensor leaves (epochs, strings, hyper-parameters) are skipped.
 */
export function selectStateDict(root: PickleValue, key: string | undefined, where: string): Map<string, TorchTensor> {
  const start = key === undefined ? unwrap(root) : lookup(root, key, where);
  const out = new Map<string, TorchTensor>();
  if (start instanceof TorchTensor) {
    throw new MigeInputError(
      `${key === undefined ? 'the checkpoint' : `'${key}'`} is a single tensor, not a dict of tensors`,
      where,
    );
  }
  let visited = 0;
  const ancestors = new Set<PickleValue>();
  const walk = (node: PickleValue, prefix: string, depth: number): void => {
    if (depth > MAX_NESTING) tooDeep(where);
    const items = children(node, where);
    if (!items) return;
    if (ancestors.has(node))
      throw new MigeInputError(`the checkpoint contains a reference cycle at '${prefix}'`, where);
    ancestors.add(node);
    for (const [name, value] of items) {
      if (++visited > MAX_NODES) throw new MigeInputError(`the checkpoint has more than ${MAX_NODES} entries`, where);
      const full = prefix ? `${prefix}.${name}` : name;
      if (value instanceof TorchTensor) {
        if (out.has(full)) throw new MigeInputError(`two tensors flatten to the name '${full}'`, where);
        out.set(full, value);
      } else {
        walk(value, full, depth + 1);
      }
    }
    ancestors.delete(node);
  };
  walk(start, '', 0);
  return out;
}

/** Converts the unpickled checkpoint to plain data (for epochs, configs, ...). */
export function toTree(root: PickleValue, where: string): PthTree {
  let visited = 0;
  const ancestors = new Set<PickleValue>();
  const convert = (node: PickleValue, depth: number): PthTree => {
    if (++visited > MAX_NODES) throw new MigeInputError(`the checkpoint has more than ${MAX_NODES} entries`, where);
    if (depth > MAX_NESTING) tooDeep(where);
    if (node instanceof TorchTensor) return new PthTensorLeaf(node.storage.dtype, [...node.shape]);
    if (node instanceof PickleGlobal) return `<${node.qualifiedName}>`;
    if (node instanceof TorchStorage) return `<storage ${node.key}>`;
    if (!(node instanceof PickleDict || node instanceof PickleTuple || Array.isArray(node))) return node;
    if (ancestors.has(node)) return '<cycle>';
    ancestors.add(node);
    let result: PthTree;
    if (node instanceof PickleDict) {
      const obj: { [key: string]: PthTree } = {};
      for (const [k, v] of node.size === 0 ? [] : node.entries)
        Object.defineProperty(obj, keyName(k, where), {
          value: convert(v, depth + 1),
          enumerable: true,
          writable: true,
          configurable: true,
        });
      result = obj;
    } else {
      result = (node instanceof PickleTuple ? node.items : node).map((v) => convert(v, depth + 1));
    }
    ancestors.delete(node);
    return result;
  };
  return convert(root, 0);
}
