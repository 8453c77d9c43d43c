import { MigeInputError, nn, tf, type TensorData } from '@mige/core';
import { derivedSizes, type DitConfig } from './config.js';
import { sincosPositionTable } from './embedders.js';

/**
 * Every checkpoint layout the DiT loads, in one place. The module's own names are PixArt's
 * (official PixArt-α and MIGE checkpoints), so those need no mapping beyond dropping the other
 * MIGE modules; diffusers' PixArtTransformer2DModel renames everything and splits qkv and kv.
 */

type Source = nn.StateDict | nn.TensorReader;

/** Top-level names of the DiT's tensors inside a whole MIGE checkpoint. */
const DIT_PREFIXES = ['x_embedder.', 't_embedder.', 't_block.', 'y_embedder.', 'blocks.', 'final_layer.'];

/**
 * The DiT's tensors of a whole MIGE checkpoint (which also holds `visual_encoder.`, `Qformer.`,
 * `t5_model.`, `FFM.`, ...): other keys are dropped, names are unchanged.
 */
export function ditKeysOfMigeCheckpoint(source: Source): nn.TensorReader {
  return nn.renameKeys(source, (k) => (k === 'pos_embed' || DIT_PREFIXES.some((p) => k.startsWith(p)) ? k : undefined));
}

/** diffusers name (regex) → PixArt name, for tensors that map one to one. */
const DIFFUSERS_RENAMES: [RegExp, string][] = [
  [/^pos_embed\.proj\.(weight|bias)$/, 'x_embedder.proj.$1'],
  [/^pos_embed\.pos_embed$/, 'pos_embed'],
  [/^adaln_single\.emb\.timestep_embedder\.linear_1\.(weight|bias)$/, 't_embedder.mlp.0.$1'],
  [/^adaln_single\.emb\.timestep_embedder\.linear_2\.(weight|bias)$/, 't_embedder.mlp.2.$1'],
  [/^adaln_single\.linear\.(weight|bias)$/, 't_block.1.$1'],
  [/^caption_projection\.linear_1\.(weight|bias)$/, 'y_embedder.y_proj.fc1.$1'],
  [/^caption_projection\.linear_2\.(weight|bias)$/, 'y_embedder.y_proj.fc2.$1'],
  [/^caption_projection\.y_embedding$/, 'y_embedder.y_embedding'],
  [/^transformer_blocks\.(\d+)\.attn1\.to_out\.0\.(weight|bias)$/, 'blocks.$1.attn.proj.$2'],
  [/^transformer_blocks\.(\d+)\.attn2\.to_q\.(weight|bias)$/, 'blocks.$1.cross_attn.q_linear.$2'],
  [/^transformer_blocks\.(\d+)\.attn2\.to_out\.0\.(weight|bias)$/, 'blocks.$1.cross_attn.proj.$2'],
  [/^transformer_blocks\.(\d+)\.ff\.net\.0\.proj\.(weight|bias)$/, 'blocks.$1.mlp.fc1.$2'],
  [/^transformer_blocks\.(\d+)\.ff\.net\.2\.(weight|bias)$/, 'blocks.$1.mlp.fc2.$2'],
  [/^transformer_blocks\.(\d+)\.scale_shift_table$/, 'blocks.$1.scale_shift_table'],
  [/^proj_out\.(weight|bias)$/, 'final_layer.linear.$1'],
  [/^scale_shift_table$/, 'final_layer.scale_shift_table'],
];

/** diffusers' separate projections that PixArt keeps as one Linear: [pattern, target, part order]. */
const DIFFUSERS_CONCATS: [RegExp, string, string[]][] = [
  [/^transformer_blocks\.(\d+)\.attn1\.to_(q|k|v)\.(weight|bias)$/, 'blocks.$1.attn.qkv.$3', ['q', 'k', 'v']],
  [/^transformer_blocks\.(\d+)\.attn2\.to_(k|v)\.(weight|bias)$/, 'blocks.$1.cross_attn.kv_linear.$3', ['k', 'v']],
];

interface Entry {
  shape: number[];
  read: () => nn.StateDictValue;
}

function asData(v: nn.StateDictValue): TensorData {
  if (v instanceof tf.Tensor) return { dtype: v.dtype === 'int32' ? 'int32' : 'float32', shape: [...v.shape], data: v.dataSync() as Float32Array };
  return v;
}

/** Rows of several [n_i, ...rest] tensors stacked along axis 0, read one part at a time. */
function concatRows(parts: { name: string; shape: readonly number[] }[], read: (name: string) => nn.StateDictValue, target: string): Entry {
  const first = parts[0];
  if (!first) throw new Error(`no parts for ${target}`);
  const rest = first.shape.slice(1);
  for (const p of parts) {
    if (p.shape.length !== first.shape.length || p.shape.slice(1).some((d, i) => d !== rest[i])) {
      throw new MigeInputError(`${p.name} has shape [${p.shape}], which does not stack with ${first.name} [${first.shape}] into ${target}`, 'diffusers PixArt');
    }
  }
  const shape = [parts.reduce((n, p) => n + (p.shape[0] as number), 0), ...rest];
  return {
    shape,
    read: () => {
      const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
      let offset = 0;
      for (const p of parts) {
        const { data } = asData(read(p.name));
        out.set(data, offset);
        offset += data.length;
      }
      return { dtype: 'float32', shape, data: out };
    },
  };
}

/**
 * A reader that presents a diffusers `PixArtTransformer2DModel` state dict (or file) under the
 * PixArt names this package uses: renames, q/k/v concatenated into `attn.qkv` and k/v into
 * `cross_attn.kv_linear` at read time (one tensor at a time), and `pos_embed` (a non-persistent
 * buffer in diffusers) computed from `config` when the source lacks it. Unknown keys pass
 * through under their own names, so loadStateDict reports them; so do the parts of an incomplete
 * q/k/v group. diffusers' official conversion drops `y_embedding`: without
 * `caption_projection.y_embedding` the null caption is reported missing.
 */
export function fromDiffusersPixArt(source: Source, config: Readonly<DitConfig>): nn.TensorReader {
  const src = nn.renameKeys(source, (k) => k);
  const entries = new Map<string, Entry>();
  const groups = new Map<string, { order: string[]; parts: Map<string, { name: string; shape: number[] }> }>();
  const add = (name: string, entry: Entry, from: string) => {
    if (entries.has(name)) throw new MigeInputError(`${from} maps to ${name}, which another key already gives`, 'diffusers PixArt');
    entries.set(name, entry);
  };
  const passThrough = (k: string) => add(k, { shape: [...src.info(k).shape], read: () => src.read(k) }, k);

  for (const k of src.keys()) {
    const rename = DIFFUSERS_RENAMES.find(([re]) => re.test(k));
    if (rename) {
      add(k.replace(rename[0], rename[1]), { shape: [...src.info(k).shape], read: () => src.read(k) }, k);
      continue;
    }
    const concat = DIFFUSERS_CONCATS.find(([re]) => re.test(k));
    if (!concat) {
      passThrough(k);
      continue;
    }
    const [re, target, order] = concat;
    const name = k.replace(re, target);
    const part = (re.exec(k) as RegExpExecArray)[2] as string;
    const group = groups.get(name) ?? { order, parts: new Map() };
    group.parts.set(part, { name: k, shape: [...src.info(k).shape] });
    groups.set(name, group);
  }
  for (const [name, { order, parts }] of groups) {
    const ordered = order.map((p) => parts.get(p));
    if (ordered.every((p) => p !== undefined)) add(name, concatRows(ordered, (n) => src.read(n), name), name);
    else for (const p of parts.values()) passThrough(p.name);
  }
  if (!entries.has('pos_embed')) {
    const s = derivedSizes(config);
    const table = sincosPositionTable(config.hiddenSize, s.gridSize, s.gridSize, config.leweiScale);
    const shape = [1, s.numPatches, config.hiddenSize];
    entries.set('pos_embed', { shape, read: () => ({ dtype: 'float32', shape, data: table }) });
  }
  const entry = (n: string): Entry => {
    const e = entries.get(n);
    if (!e) throw new MigeInputError(`no tensor named ${n}`, 'diffusers PixArt');
    return e;
  };
  return { keys: () => entries.keys(), info: (n) => ({ shape: entry(n).shape }), read: (n) => entry(n).read() };
}
