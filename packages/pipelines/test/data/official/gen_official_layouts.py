"""The micro MIGE's weights (../model/micro-state.safetensors, micro-vae.safetensors) in the layouts
MIGE's published pieces come in, for the streamed-conversion tests:

  t5/                      an HF T5EncoderModel folder: config.json and two fp32 safetensors shards
                           listed in model.safetensors.index.json (shared.weight once, as
                           save_pretrained dedups the tied embedding)
  eva_vit_g.pth            EVA ViT-g as LAVIS loads it: a flat fp16 state dict without prefix,
                           with one block more than the model builds (39 of 40 in the real one)
  blip2_pretrained.pth     LAVIS BLIP-2: {'model': sd} in fp32 with ln_vision, the Q-Former,
                           query_tokens, plus tensors MIGE prunes (text path, vision_proj)
  pixart/                  a diffusers PixArtTransformer2DModel folder: renamed keys, q/k/v and
                           k/v split, the 4-channel x_embedder (latent only), no pos_embed
  mige-part.pth            {'state_dict': FFM + t5_proj}, what only MIGE's checkpoint has
  vae/diffusion_pytorch_model.bin
                           sd-vae-ft-ema's layout: a flat fp32 torch.save with pre-0.14
                           attention names (query/key/value/proj_attn)

Needs only torch (1.13 works): safetensors files are read and written by hand.
Run: /usr/bin/python3 test/data/official/gen_official_layouts.py
"""
import importlib.util
import json
import os
import re
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
# The hand-written safetensors reader of the script that made ../model/*.pth.
_spec = importlib.util.spec_from_file_location('fixture_pth', os.path.join(HERE, '..', '..', '..', 'scripts', 'make-model-fixture-pth.py'))
_fixture = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_fixture)
read_safetensors = _fixture.read_safetensors
NAMES = {v: k for k, v in _fixture.DTYPES.items()}


def write_safetensors(path, tensors):
    header, offset, blobs = {}, 0, []
    for name, t in tensors.items():
        data = t.contiguous().numpy().tobytes()
        header[name] = {'dtype': NAMES[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        offset += len(data)
        blobs.append(data)
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(head)))
        f.write(head)
        for b in blobs:
            f.write(b)


def sub(sd, prefix):
    return {k[len(prefix):]: v for k, v in sd.items() if k.startswith(prefix)}


def t5_folder(sd, config):
    folder = os.path.join(HERE, 't5')
    os.makedirs(folder, exist_ok=True)
    t5 = {k: v for k, v in sub(sd, 't5_model.').items() if k != 'encoder.embed_tokens.weight'}
    c = config['encoder']['t5']
    with open(os.path.join(folder, 'config.json'), 'w') as f:
        json.dump({
            'architectures': ['T5EncoderModel'], 'model_type': 't5', 'vocab_size': c['vocabSize'], 'd_model': c['dModel'],
            'd_kv': c['dKv'], 'd_ff': c['dFf'], 'num_layers': c['numLayers'], 'num_heads': c['numHeads'],
            'relative_attention_num_buckets': c['numBuckets'], 'relative_attention_max_distance': c['maxDistance'],
            'layer_norm_epsilon': c['layerNormEps'], 'feed_forward_proj': 'gated-gelu', 'torch_dtype': 'float32',
        }, f, indent=2)
    names = sorted(t5)
    half = len(names) // 2
    shards = {'model-00001-of-00002.safetensors': names[:half], 'model-00002-of-00002.safetensors': names[half:]}
    weight_map = {}
    for file, keys in shards.items():
        write_safetensors(os.path.join(folder, file), {k: t5[k] for k in keys})
        weight_map.update({k: file for k in keys})
    total = sum(t.numel() * t.element_size() for t in t5.values())
    with open(os.path.join(folder, 'model.safetensors.index.json'), 'w') as f:
        json.dump({'metadata': {'total_size': total}, 'weight_map': weight_map}, f, indent=2)


def eva(sd):
    vit = sub(sd, 'visual_encoder.')
    extra = {k.replace('blocks.0.', 'blocks.1.', 1): v + 1 for k, v in vit.items() if k.startswith('blocks.0.')}
    torch.save({k: v.half() for k, v in {**vit, **extra}.items()}, os.path.join(HERE, 'eva_vit_g.pth'))


def blip2(sd):
    keep = {k: v for k, v in sd.items() if k.startswith(('ln_vision.', 'Qformer.')) or k == 'query_tokens'}
    gen = torch.Generator().manual_seed(5)
    keep['Qformer.cls.predictions.bias'] = torch.randn(30, generator=gen)
    keep['Qformer.bert.embeddings.word_embeddings.weight'] = torch.randn(30, 16, generator=gen)
    keep['Qformer.bert.embeddings.position_ids'] = torch.arange(512, dtype=torch.int64)[None]
    keep['vision_proj.weight'] = torch.randn(8, 16, generator=gen)
    torch.save({'model': keep, 'epoch': 9}, os.path.join(HERE, 'blip2_pretrained.pth'))


PIXART_TO_DIFFUSERS = [
    (r'^x_embedder\.proj\.(weight|bias)$', r'pos_embed.proj.\1'),
    (r'^t_embedder\.mlp\.0\.(weight|bias)$', r'adaln_single.emb.timestep_embedder.linear_1.\1'),
    (r'^t_embedder\.mlp\.2\.(weight|bias)$', r'adaln_single.emb.timestep_embedder.linear_2.\1'),
    (r'^t_block\.1\.(weight|bias)$', r'adaln_single.linear.\1'),
    (r'^y_embedder\.y_proj\.fc1\.(weight|bias)$', r'caption_projection.linear_1.\1'),
    (r'^y_embedder\.y_proj\.fc2\.(weight|bias)$', r'caption_projection.linear_2.\1'),
    (r'^y_embedder\.y_embedding$', r'caption_projection.y_embedding'),
    (r'^blocks\.(\d+)\.attn\.proj\.(weight|bias)$', r'transformer_blocks.\1.attn1.to_out.0.\2'),
    (r'^blocks\.(\d+)\.cross_attn\.q_linear\.(weight|bias)$', r'transformer_blocks.\1.attn2.to_q.\2'),
    (r'^blocks\.(\d+)\.cross_attn\.proj\.(weight|bias)$', r'transformer_blocks.\1.attn2.to_out.0.\2'),
    (r'^blocks\.(\d+)\.mlp\.fc1\.(weight|bias)$', r'transformer_blocks.\1.ff.net.0.proj.\2'),
    (r'^blocks\.(\d+)\.mlp\.fc2\.(weight|bias)$', r'transformer_blocks.\1.ff.net.2.\2'),
    (r'^blocks\.(\d+)\.scale_shift_table$', r'transformer_blocks.\1.scale_shift_table'),
    (r'^final_layer\.linear\.(weight|bias)$', r'proj_out.\1'),
    (r'^final_layer\.scale_shift_table$', r'scale_shift_table'),
]
PIXART_SPLITS = [
    (r'^blocks\.(\d+)\.attn\.qkv\.(weight|bias)$', r'transformer_blocks.\1.attn1.to_{}.\2', 'qkv'),
    (r'^blocks\.(\d+)\.cross_attn\.kv_linear\.(weight|bias)$', r'transformer_blocks.\1.attn2.to_{}.\2', 'kv'),
]


def pixart(sd):
    folder = os.path.join(HERE, 'pixart')
    os.makedirs(folder, exist_ok=True)
    dit = {k: v for k, v in sd.items() if re.match(r'^(x_embedder|t_embedder|t_block|y_embedder|blocks|final_layer)\.', k)}
    out = {}
    for k, v in dit.items():
        if k == 'x_embedder.proj.weight':
            v = v[:, :4].contiguous()  # PixArt-α sees the latent only
        split = next(((p, t, parts) for p, t, parts in PIXART_SPLITS if re.match(p, k)), None)
        if split:
            p, t, parts = split
            for name, piece in zip(parts, v.chunk(len(parts), 0)):
                out[re.sub(p, t, k).format(name)] = piece.contiguous()
            continue
        p, t = next((p, t) for p, t in PIXART_TO_DIFFUSERS if re.match(p, k))
        out[re.sub(p, t, k)] = v
    write_safetensors(os.path.join(folder, 'diffusion_pytorch_model.safetensors'), out)


def mige_part(sd):
    part = {k: v for k, v in sd.items() if k.startswith(('FFM.', 't5_proj.'))}
    torch.save({'state_dict': part, 'epoch': 1}, os.path.join(HERE, 'mige-part.pth'))


LEGACY = {'to_q': 'query', 'to_k': 'key', 'to_v': 'value', 'to_out.0': 'proj_attn'}


def vae(path):
    sd = read_safetensors(path)
    legacy = {}
    for k, v in sd.items():
        m = re.match(r'^((?:encoder|decoder)\.mid_block\.attentions\.\d+)\.(to_q|to_k|to_v|to_out\.0)\.(.+)$', k)
        legacy[f'{m.group(1)}.{LEGACY[m.group(2)]}.{m.group(3)}' if m else k] = v
    torch.save(legacy, os.path.join(HERE, 'vae', 'diffusion_pytorch_model.bin'))


def main():
    model = os.path.join(HERE, '..', 'model')
    sd = read_safetensors(os.path.join(model, 'micro-state.safetensors'))
    with open(os.path.join(model, 'micro-config.json')) as f:
        config = json.load(f)
    t5_folder(sd, config)
    eva(sd)
    blip2(sd)
    pixart(sd)
    mige_part(sd)
    vae(os.path.join(HERE, 'micro-vae.safetensors'))
    print('done')


if __name__ == '__main__':
    main()
