import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError, readSafetensors, tf, writeSafetensors, type WritableTensor } from '@mige/core';
import { toDiffusersVaeConfig } from '@mige/vae';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { convertCheckpoint, loadOfficialCheckpoint, MigeModel, tinyTokenizerPath } from '../../src/model/index.js';
import { DATA, microConfig, sameTensors, tempDir, useBackend } from './helpers.js';

const pth = (name: string) => join(DATA, name);

function writable(m: Map<string, tf.Tensor>): Map<string, WritableTensor> {
  return new Map([...m].map(([k, t]) => [k, { dtype: 'F32' as const, shape: [...t.shape], data: Float32Array.from(t.dataSync()) }]));
}

describe('MIGE official checkpoints', () => {
  let reference: Map<string, tf.Tensor>;
  let tmp: { dir: string; cleanup: () => void };
  beforeAll(async () => {
    await useBackend('cpu');
    // What scripts/make-model-fixture.ts wrote; the .pth files hold the same values.
    reference = new Map([...readSafetensors(join(DATA, 'micro-state.safetensors'))].map(([k, v]) => [k, tf.tensor(v.data, v.shape, v.dtype)]));
    tmp = tempDir();
  });
  afterAll(() => tmp.cleanup());

  it("loads model.pth ({'state_dict': …}, tied T5 key, Q-Former position_ids) to the same tensors", () => {
    const model = MigeModel.build(microConfig(), undefined, false);
    const report = loadOfficialCheckpoint(model, pth('micro-mige.pth'));
    expect(report).toEqual({ missing: [], unexpected: [], mismatched: [] });
    expect(sameTensors(model.stateDict(), reference)).toEqual([]);
    model.dispose();
  });

  it('loads a flat fp16 state dict to the fp16-rounded values', () => {
    const model = MigeModel.build(microConfig(), undefined, false);
    loadOfficialCheckpoint(model, pth('micro-mige-flat-fp16.pth'));
    let inexact = 0;
    for (const [k, t] of model.stateDict()) {
      const ref = (reference.get(k) as tf.Tensor).dataSync();
      const got = t.dataSync();
      // fp16 keeps 11 significant bits; below 2^-14 its spacing is 2^-24.
      let worst = 0;
      got.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - (ref[i] as number)) - 2 ** -11 * Math.abs(ref[i] as number))));
      expect(worst, k).toBeLessThanOrEqual(2 ** -24);
      if (got.some((v, i) => v !== ref[i])) inexact++;
    }
    expect(inexact).toBeGreaterThan(50); // the values really went through fp16
    model.dispose();
  });

  it('reports a missing tensor by name', () => {
    const model = MigeModel.build(microConfig(), undefined, false);
    expect(() => loadOfficialCheckpoint(model, pth('micro-mige-missing.pth'))).toThrow(MigeInputError);
    expect(() => loadOfficialCheckpoint(model, pth('micro-mige-missing.pth'))).toThrow(/micro-mige-missing\.pth: state dict does not match the module: missing keys: t_block\.1\.weight$/);
    expect(loadOfficialCheckpoint(model, pth('micro-mige-missing.pth'), { strict: false }).missing).toEqual(['t_block.1.weight']);
    model.dispose();
  });

  /** A diffusers AutoencoderKL folder of random weights for the micro config. */
  function vaeFolder(): { folder: string; tensors: Map<string, tf.Tensor> } {
    const src = MigeModel.create(microConfig(), { seed: 21 });
    const folder = join(tmp.dir, 'vae');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'config.json'), JSON.stringify(toDiffusersVaeConfig(microConfig().vae)));
    const tensors = new Map([...src.vae.stateDict()].map(([k, t]) => [k, t.clone()]));
    writeSafetensors(join(folder, 'diffusion_pytorch_model.safetensors'), writable(tensors));
    src.dispose();
    return { folder, tensors };
  }

  it('convertCheckpoint assembles model.pth and a diffusers VAE folder', () => {
    const vae = vaeFolder();
    const model = convertCheckpoint({ config: microConfig(), mige: pth('micro-mige.pth'), vae: vae.folder, tokenizer: tinyTokenizerPath() });
    expect(sameTensors(model.stateDict(), reference)).toEqual([]);
    expect(sameTensors(model.vae.stateDict(), vae.tensors)).toEqual([]);
    model.dispose();
    expect(() => convertCheckpoint({ config: microConfig(), mige: pth('micro-mige.pth') })).toThrow(/convertCheckpoint: no piece provides 1 tensor\(s\): vae\.\*/);
    expect(() => convertCheckpoint({ config: microConfig(), mige: pth('micro-mige-missing.pth'), vae: vae.folder })).toThrow(
      /convertCheckpoint: no piece provides 1 tensor\(s\): t_block\.1\.weight$/,
    );
  });

  it('convertCheckpoint assembles the T5, EVA, BLIP-2 and PixArt pieces', () => {
    const vae = vaeFolder();
    const sub = (prefix: string, rename: (k: string) => string = (k) => k.slice(prefix.length)) =>
      new Map([...reference].filter(([k]) => k.startsWith(prefix)).map(([k, t]) => [rename(k), t]));
    const config = microConfig();
    // HF T5 encoder folder.
    const t5 = join(tmp.dir, 't5');
    mkdirSync(t5, { recursive: true });
    const c5 = config.encoder.t5;
    writeFileSync(join(t5, 'config.json'), JSON.stringify({
      vocab_size: c5.vocabSize, d_model: c5.dModel, d_kv: c5.dKv, d_ff: c5.dFf, num_layers: c5.numLayers, num_heads: c5.numHeads,
      relative_attention_num_buckets: c5.numBuckets, relative_attention_max_distance: c5.maxDistance, layer_norm_epsilon: c5.layerNormEps, feed_forward_proj: 'gated-gelu',
    }));
    writeSafetensors(join(t5, 'model.safetensors'), writable(sub('t5_model.')));
    // eva_vit_g-style weights: no prefix, one block more than the model builds.
    const eva = sub('visual_encoder.');
    for (const [k, t] of [...eva].filter(([k]) => k.startsWith('blocks.0.'))) eva.set(k.replace('blocks.0.', 'blocks.1.'), t);
    writeSafetensors(join(tmp.dir, 'eva.safetensors'), writable(eva));
    // LAVIS BLIP-2: ln_vision, Q-Former, query_tokens (plus a text-path tensor MIGE prunes).
    const blip2 = new Map([...sub('ln_vision.', (k) => k), ...sub('Qformer.', (k) => k), ['query_tokens', reference.get('query_tokens') as tf.Tensor]]);
    blip2.set('Qformer.cls.predictions.bias', tf.zeros([7]));
    writeSafetensors(join(tmp.dir, 'blip2.safetensors'), writable(blip2));
    // PixArt-α: the DiT tensors with a 4-channel x_embedder (the latent only).
    const dit = new Map([...reference].filter(([k]) => /^(x_embedder|t_embedder|t_block|y_embedder|blocks|final_layer)\.|^pos_embed$/.test(k)));
    const xw = reference.get('x_embedder.proj.weight') as tf.Tensor4D;
    dit.set('x_embedder.proj.weight', tf.slice(xw, [0, 0, 0, 0], [-1, 4, -1, -1]));
    writeSafetensors(join(tmp.dir, 'pixart.safetensors'), writable(dit));
    const pieces = { config, t5, eva: join(tmp.dir, 'eva.safetensors'), blip2: join(tmp.dir, 'blip2.safetensors'), pixart: join(tmp.dir, 'pixart.safetensors'), vae: vae.folder };
    // FFM and t5_proj exist only in MIGE's own checkpoint.
    expect(() => convertCheckpoint(pieces)).toThrow(/no piece provides 25 tensor\(s\): t5_proj\.weight, t5_proj\.bias, FFM\.q_proj_1\.weight, .* … and 20 more$/);
    writeSafetensors(join(tmp.dir, 'mige-part.safetensors'), writable(new Map([...sub('FFM.', (k) => k), ...sub('t5_proj.', (k) => k)])));
    const model = convertCheckpoint({ ...pieces, mige: join(tmp.dir, 'mige-part.safetensors') });
    const widened = tf.concat([tf.slice(xw, [0, 0, 0, 0], [-1, 4, -1, -1]), tf.zeros([xw.shape[0], 4, xw.shape[2], xw.shape[3]])], 1);
    expect(sameTensors(model.stateDict(), new Map([...reference, ['x_embedder.proj.weight', widened]]))).toEqual([]);
    expect(sameTensors(model.vae.stateDict(), vae.tensors)).toEqual([]);
    model.dispose();
  });
});
