#!/usr/bin/python3
"""A PyTorch baseline of one training step of the default model (mige-world), for comparing
with MIGE.js's training engines on the same CPU.

It does the work of one MIGE.js optimizer step at batch B with the same shapes (random weights:
FLOPs and shapes match, numbers do not):

  1. frozen VAE encode (no_grad) of `--vae-images` images at 64 px (the batch's targets, the
     edit / compose sources and the instruction's subject images): diffusers' AutoencoderKL
     encoder (block_out_channels 16/32/64, 1 layer per block, GroupNorm(4), SiLU, mid block with
     one attention) + quant_conv → mean / logvar → sampled latents;
  2. frozen EVA ViT (no_grad) on the `--images` instruction images at 32 px;
  3. trainable: ln_vision → Q-Former (8 queries) → FFM (keys / values from the image's latent,
     zero-padded to 8 channels, through the DiT's own x_embedder) → t5_proj;
  4. the T5 input [B, 72, 96] gathered from the T5 embedding table and the image tokens, T5
     encoder with its attention mask;
  5. condition dropout, q_sample, PixArt-α DiT (16×16×(4+4) latents, patch 2, hidden 128,
     depth 12, learned sigma);
  6. v → ε and IDDPM's hybrid loss (mse + vb, learned-range variance, stop-gradient on the mean);
  7. backward, clip_grad_norm_(1), AdamW (lr 1e-4, wd 0.01) on every trainable parameter (all
     but the ViT and the VAE) and an EMA update (0.999).

Run it with Debian's torch (/usr/bin/python3). It prints one line of JSON:

  /usr/bin/python3 packages/pipelines/scripts/bench/torch_train_step.py --threads 1
  OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 packages/pipelines/scripts/bench/torch_train_step.py --threads 2

`stepSeconds` times each step from the VAE to the EMA; the synthetic inputs (images, prompts)
are made before each step's timer starts. `parts` are the medians of the four phases.
"""

import argparse
import json
import math
import os
import sys
import time


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--threads', type=int, default=1, help='torch.set_num_threads (and the BLAS pool)')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    p.add_argument('--steps', type=int, default=10, help='timed steps')
    p.add_argument('--vae-images', type=int, default=20, help='images VAE-encoded per step (targets + sources + subjects)')
    p.add_argument('--images', type=int, default=8, help='instruction images per step (ViT, Q-Former, FFM)')
    p.add_argument('--seed', type=int, default=0)
    a = p.parse_args()
    if a.threads < 1 or a.batch < 1 or a.steps < 1 or a.warmup < 0 or a.images < 0:
        p.error('threads, batch and steps must be >= 1; warmup and images >= 0')
    if a.vae_images < a.batch:
        p.error('--vae-images must be at least --batch (every item has a target)')
    return a


ARGS = parse_args()
# Debian's torch calls BLAS through libblas.so.3 (here OpenBLAS, pthread build), whose own thread
# pool torch.set_num_threads does not size: pin it before the library loads.
for var in ('OPENBLAS_NUM_THREADS', 'OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
    os.environ[var] = str(ARGS.threads)

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn as nn  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# ---------------------------------------------------------------------------------------------
# The mige-world config (packages/pipelines/models/mige-world/config.json)
# ---------------------------------------------------------------------------------------------
IMAGE_SIZE = 64
VAE = dict(block_out_channels=(16, 32, 64), layers_per_block=1, groups=4, latent_channels=4, scaling_factor=0.309602)
VIT = dict(img_size=32, patch=8, dim=96, depth=4, heads=4, mlp_ratio=4)
QFORMER = dict(hidden=96, layers=2, heads=4, intermediate=192, encoder_width=96, cross_freq=2, queries=8, eps=1e-12)
T5 = dict(vocab=2100, d_model=96, d_kv=24, d_ff=192, layers=2, heads=4, buckets=32, max_distance=128, eps=1e-6)
MAX_LENGTH = 72
FFM = dict(embed_dim=96, heads=4, kv_dim=96, vae_dim=128, eps=1e-6)
DIT = dict(input_size=16, patch=2, in_channels=4, hidden=128, depth=12, heads=4, mlp_ratio=4, caption_channels=96,
           max_length=72, learn_sigma=True)
LR, WEIGHT_DECAY, MAX_GRAD_NORM, EMA_DECAY = 1e-4, 0.01, 1.0, 0.999
CFG_DROPOUT = (0.05, 0.05, 0.05)  # instruction, source, both
CAPTION_DROPOUT = 0.1  # the y_embedder's own token drop, as MIGE.js's default train config


def attention(q, k, v, scale, bias=None):
    """q [B, H, N, d], k / v [B, H, M, d], bias broadcastable to [B, H, N, M] → [B, H, N, d]."""
    s = torch.matmul(q, k.transpose(-1, -2)) * scale
    if bias is not None:
        s = s + bias
    return torch.matmul(s.softmax(-1), v)


def split_heads(x, h):
    b, n, d = x.shape
    return x.view(b, n, h, d // h).transpose(1, 2)


def merge_heads(x):
    b, h, n, d = x.shape
    return x.transpose(1, 2).reshape(b, n, h * d)


# ---------------------------------------------------------------------------------------------
# 1. diffusers AutoencoderKL encoder (+ quant_conv), frozen
# ---------------------------------------------------------------------------------------------
class ResnetBlock2D(nn.Module):
    def __init__(self, cin, cout, groups):
        super().__init__()
        self.norm1 = nn.GroupNorm(groups, cin, eps=1e-6)
        self.conv1 = nn.Conv2d(cin, cout, 3, padding=1)
        self.norm2 = nn.GroupNorm(groups, cout, eps=1e-6)
        self.conv2 = nn.Conv2d(cout, cout, 3, padding=1)
        self.conv_shortcut = nn.Conv2d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        h = self.conv1(F.silu(self.norm1(x)))
        h = self.conv2(F.silu(self.norm2(h)))
        return (self.conv_shortcut(x) if self.conv_shortcut is not None else x) + h


class Downsample2D(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv = nn.Conv2d(c, c, 3, stride=2, padding=0)

    def forward(self, x):
        return self.conv(F.pad(x, (0, 1, 0, 1)))


class VaeAttention(nn.Module):
    """diffusers Attention in the mid block: GroupNorm, one head of width C, residual."""

    def __init__(self, c, groups):
        super().__init__()
        self.group_norm = nn.GroupNorm(groups, c, eps=1e-6)
        self.to_q, self.to_k, self.to_v, self.to_out = (nn.Linear(c, c) for _ in range(4))

    def forward(self, x):
        b, c, h, w = x.shape
        seq = self.group_norm(x).view(b, c, h * w).transpose(1, 2)
        q, k, v = (m(seq).unsqueeze(1) for m in (self.to_q, self.to_k, self.to_v))
        out = self.to_out(attention(q, k, v, c ** -0.5).squeeze(1))
        return x + out.transpose(1, 2).reshape(b, c, h, w)


class VaeEncoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        ch, g, n = c['block_out_channels'], c['groups'], c['layers_per_block']
        self.conv_in = nn.Conv2d(3, ch[0], 3, padding=1)
        blocks = []
        for i, out in enumerate(ch):
            cin = ch[0] if i == 0 else ch[i - 1]
            layers = [ResnetBlock2D(cin if j == 0 else out, out, g) for j in range(n)]
            if i < len(ch) - 1:
                layers.append(Downsample2D(out))
            blocks.append(nn.Sequential(*layers))
        self.down_blocks = nn.Sequential(*blocks)
        last = ch[-1]
        self.mid_block = nn.Sequential(ResnetBlock2D(last, last, g), VaeAttention(last, g), ResnetBlock2D(last, last, g))
        self.conv_norm_out = nn.GroupNorm(g, last, eps=1e-6)
        self.conv_out = nn.Conv2d(last, 2 * c['latent_channels'], 3, padding=1)
        self.quant_conv = nn.Conv2d(2 * c['latent_channels'], 2 * c['latent_channels'], 1)

    def forward(self, images, noise):
        """images [n, 3, 64, 64] in [-1, 1] → sampled latents [n, 4, 16, 16] (unscaled)."""
        h = self.mid_block(self.down_blocks(self.conv_in(images)))
        moments = self.quant_conv(self.conv_out(F.silu(self.conv_norm_out(h))))
        mean, logvar = moments.chunk(2, 1)
        std = torch.exp(0.5 * logvar.clamp(-30.0, 20.0))
        return mean + std * noise


# ---------------------------------------------------------------------------------------------
# 2. EVA ViT (LAVIS eva_vit as BLIP-2 uses it), frozen
# ---------------------------------------------------------------------------------------------
class EvaAttention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim, bias=False)
        self.q_bias = nn.Parameter(torch.zeros(dim))
        self.v_bias = nn.Parameter(torch.zeros(dim))
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        bias = torch.cat([self.q_bias, torch.zeros_like(self.v_bias), self.v_bias])
        q, k, v = (split_heads(t, self.heads) for t in F.linear(x, self.qkv.weight, bias).chunk(3, -1))
        return self.proj(merge_heads(attention(q, k, v, q.shape[-1] ** -0.5)))


class EvaBlock(nn.Module):
    def __init__(self, dim, heads, hidden):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = EvaAttention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.fc1, self.fc2 = nn.Linear(dim, hidden), nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(F.gelu(self.fc1(self.norm2(x))))


class EvaViT(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, n = c['dim'], (c['img_size'] // c['patch']) ** 2
        self.patch_embed = nn.Conv2d(3, d, c['patch'], stride=c['patch'])
        self.cls_token = nn.Parameter(torch.randn(1, 1, d) * 0.02)
        self.pos_embed = nn.Parameter(torch.randn(1, n + 1, d) * 0.02)
        self.blocks = nn.Sequential(*(EvaBlock(d, c['heads'], d * c['mlp_ratio']) for _ in range(c['depth'])))

    def forward(self, images):
        """images [n, 3, 32, 32] → [n, 17, 96] (cls first, no final norm)."""
        x = self.patch_embed(images).flatten(2).transpose(1, 2)
        x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], 1) + self.pos_embed
        return self.blocks(x)


# ---------------------------------------------------------------------------------------------
# 3. Q-Former (BLIP-2, query path), FFM fusion, t5_proj
# ---------------------------------------------------------------------------------------------
class BertAttention(nn.Module):
    """self (query/key/value) + output (dense, post-LN residual)."""

    def __init__(self, hidden, heads, context_width, eps):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(hidden, hidden)
        self.key = nn.Linear(context_width, hidden)
        self.value = nn.Linear(context_width, hidden)
        self.dense = nn.Linear(hidden, hidden)
        self.LayerNorm = nn.LayerNorm(hidden, eps=eps)

    def forward(self, x, context):
        q = split_heads(self.query(x), self.heads)
        k, v = split_heads(self.key(context), self.heads), split_heads(self.value(context), self.heads)
        out = merge_heads(attention(q, k, v, q.shape[-1] ** -0.5))
        return self.LayerNorm(self.dense(out) + x)


class BertLayer(nn.Module):
    def __init__(self, c, cross):
        super().__init__()
        h = c['hidden']
        self.attention = BertAttention(h, c['heads'], h, c['eps'])
        self.crossattention = BertAttention(h, c['heads'], c['encoder_width'], c['eps']) if cross else None
        self.intermediate_query = nn.Linear(h, c['intermediate'])
        self.output_query = nn.Linear(c['intermediate'], h)
        self.output_norm = nn.LayerNorm(h, eps=c['eps'])

    def forward(self, x, image_embeds):
        h = self.attention(x, x)
        if self.crossattention is not None:
            h = self.crossattention(h, image_embeds)
        return self.output_norm(self.output_query(F.gelu(self.intermediate_query(h))) + h)


class QFormer(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.query_tokens = nn.Parameter(torch.randn(1, c['queries'], c['hidden']) * 0.02)
        self.embeddings_norm = nn.LayerNorm(c['hidden'], eps=c['eps'])
        self.layer = nn.ModuleList(BertLayer(c, i % c['cross_freq'] == 0) for i in range(c['layers']))

    def forward(self, image_embeds):
        h = self.embeddings_norm(self.query_tokens.expand(image_embeds.shape[0], -1, -1))
        for layer in self.layer:
            h = layer(h, image_embeds)
        return h


def projection_mlp(cin, cout):
    return nn.Sequential(nn.Linear(cin, cout), nn.GELU(), nn.Linear(cout, cout))


class FFMFusion(nn.Module):
    """MIGE's FFM: Q-Former tokens attend to the patch-embedded VAE latent of their image."""

    def __init__(self, c):
        super().__init__()
        d = c['embed_dim']
        self.q_proj_1 = nn.Linear(c['kv_dim'], d, bias=False)
        self.k_proj_1 = projection_mlp(c['vae_dim'], d)
        self.v_proj_1 = projection_mlp(c['vae_dim'], d)
        self.ln_q_1, self.ln_k_1, self.ln_v_1, self.ln_out = (nn.LayerNorm(d, eps=c['eps']) for _ in range(4))
        self.clip_attn = nn.MultiheadAttention(d, c['heads'], batch_first=True)
        self.mlp = nn.Linear(d, d)
        nn.init.zeros_(self.mlp.weight)
        nn.init.zeros_(self.mlp.bias)

    def forward(self, clip, vae_tokens):
        key = self.ln_k_1(self.k_proj_1(vae_tokens))
        value = self.ln_v_1(self.v_proj_1(vae_tokens))
        query = self.ln_q_1(self.q_proj_1(clip))
        out, _ = self.clip_attn(query, key, value, need_weights=False)
        return self.ln_out(clip + self.mlp(out))


# ---------------------------------------------------------------------------------------------
# 4. T5 encoder (v1.1: gated-GELU, RMSNorm, relative position bias from block 0)
# ---------------------------------------------------------------------------------------------
class T5LayerNorm(nn.Module):
    def __init__(self, d, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(d))
        self.eps = eps

    def forward(self, x):
        return self.weight * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))


class T5Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, inner = c['d_model'], c['heads'] * c['d_kv']
        self.heads = c['heads']
        self.q, self.k, self.v = (nn.Linear(d, inner, bias=False) for _ in range(3))
        self.o = nn.Linear(inner, d, bias=False)
        self.attn_norm = T5LayerNorm(d, c['eps'])
        self.wi_0 = nn.Linear(d, c['d_ff'], bias=False)
        self.wi_1 = nn.Linear(d, c['d_ff'], bias=False)
        self.wo = nn.Linear(c['d_ff'], d, bias=False)
        self.ff_norm = T5LayerNorm(d, c['eps'])

    def forward(self, x, bias):
        h = self.attn_norm(x)
        q, k, v = (split_heads(m(h), self.heads) for m in (self.q, self.k, self.v))
        x = x + self.o(merge_heads(attention(q, k, v, 1.0, bias)))
        h = self.ff_norm(x)
        return x + self.wo(F.gelu(self.wi_0(h), approximate='tanh') * self.wi_1(h))


def relative_position_buckets(length, num_buckets, max_distance):
    """HF T5Attention._relative_position_bucket (bidirectional), [L, L] of bucket(j − i)."""
    ctx = torch.arange(length)[:, None]
    mem = torch.arange(length)[None, :]
    rel = mem - ctx
    n = num_buckets // 2
    buckets = (rel > 0).long() * n
    rel = rel.abs()
    max_exact = n // 2
    large = max_exact + (torch.log(rel.float().clamp(min=1) / max_exact) / math.log(max_distance / max_exact)
                         * (n - max_exact)).long()
    large = large.clamp(max=n - 1)
    return buckets + torch.where(rel < max_exact, rel, large)


class T5Encoder(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.heads = c['heads']
        self.shared = nn.Embedding(c['vocab'], c['d_model'])
        self.relative_attention_bias = nn.Embedding(c['buckets'], c['heads'])
        self.block = nn.ModuleList(T5Block(c) for _ in range(c['layers']))
        self.final_layer_norm = T5LayerNorm(c['d_model'], c['eps'])
        self.register_buffer('buckets', relative_position_buckets(MAX_LENGTH, c['buckets'], c['max_distance']), persistent=False)

    def forward(self, embeds, mask):
        """embeds [B, L, D], mask [B, L] (1 valid, 0 padding) → [B, L, D]."""
        position_bias = self.relative_attention_bias(self.buckets).permute(2, 0, 1).unsqueeze(0)
        bias = position_bias + (1.0 - mask[:, None, None, :]) * torch.finfo(torch.float32).min
        h = embeds
        for block in self.block:
            h = block(h, bias)
        return self.final_layer_norm(h)


# ---------------------------------------------------------------------------------------------
# 5. PixArt-α DiT with MIGE's conditional input channels
# ---------------------------------------------------------------------------------------------
def sincos_pos_embed(d, grid):
    """PixArt's get_2d_sincos_pos_embed at base_size = grid, lewei_scale 1: [1, grid², D]."""
    coords = np.arange(grid, dtype=np.float32)
    gw, gh = np.meshgrid(coords, coords)
    omega = 1.0 / 10000 ** (np.arange(d // 4, dtype=np.float64) / (d / 4.0))

    def emb(pos):
        out = np.einsum('m,d->md', pos.reshape(-1), omega)
        return np.concatenate([np.sin(out), np.cos(out)], 1)

    table = np.concatenate([emb(gw), emb(gh)], 1)
    return torch.from_numpy(table).float().unsqueeze(0)


def t2i_modulate(x, shift, scale):
    return x * (1 + scale) + shift


class PixArtBlock(nn.Module):
    def __init__(self, d, heads, mlp_hidden):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(d, 3 * d)
        self.attn_proj = nn.Linear(d, d)
        self.q_linear = nn.Linear(d, d)
        self.kv_linear = nn.Linear(d, 2 * d)
        self.cross_proj = nn.Linear(d, d)
        self.fc1 = nn.Linear(d, mlp_hidden)
        self.fc2 = nn.Linear(mlp_hidden, d)
        self.scale_shift_table = nn.Parameter(torch.randn(6, d) / d ** 0.5)

    def forward(self, x, y, t0, cross_bias):
        b, _, d = x.shape
        shift_msa, scale_msa, gate_msa, shift_mlp, scale_mlp, gate_mlp = (
            self.scale_shift_table[None] + t0.reshape(b, 6, d)).chunk(6, 1)
        h = t2i_modulate(F.layer_norm(x, (d,), eps=1e-6), shift_msa, scale_msa)
        q, k, v = (split_heads(t, self.heads) for t in self.qkv(h).chunk(3, -1))
        x = x + gate_msa * self.attn_proj(merge_heads(attention(q, k, v, q.shape[-1] ** -0.5)))
        q = split_heads(self.q_linear(x), self.heads)
        k, v = (split_heads(t, self.heads) for t in self.kv_linear(y).chunk(2, -1))
        x = x + self.cross_proj(merge_heads(attention(q, k, v, q.shape[-1] ** -0.5, cross_bias)))
        h = t2i_modulate(F.layer_norm(x, (d,), eps=1e-6), shift_mlp, scale_mlp)
        return x + gate_mlp * self.fc2(F.gelu(self.fc1(h), approximate='tanh'))


class PixArtDiT(nn.Module):
    def __init__(self, c):
        super().__init__()
        d, p = c['hidden'], c['patch']
        self.patch, self.grid = p, c['input_size'] // p
        self.out_channels = c['in_channels'] * (2 if c['learn_sigma'] else 1)
        self.heads = c['heads']
        # x_embedder: noisy latent ‖ conditional input (MIGE stacks them on channels).
        self.x_embedder = nn.Conv2d(2 * c['in_channels'], d, p, stride=p)
        self.register_buffer('pos_embed', sincos_pos_embed(d, self.grid))
        self.t_fc1, self.t_fc2 = nn.Linear(256, d), nn.Linear(d, d)
        self.t_block = nn.Linear(d, 6 * d)
        self.y_fc1, self.y_fc2 = nn.Linear(c['caption_channels'], d), nn.Linear(d, d)
        # The learned null caption: a buffer, as in PixArt and MIGE.js (not an AdamW parameter).
        self.register_buffer('y_embedding', torch.randn(c['max_length'], c['caption_channels']) / c['caption_channels'] ** 0.5)
        self.blocks = nn.ModuleList(PixArtBlock(d, c['heads'], d * c['mlp_ratio']) for _ in range(c['depth']))
        self.final_scale_shift_table = nn.Parameter(torch.randn(2, d) / d ** 0.5)
        self.final_linear = nn.Linear(d, p * p * self.out_channels)
        half = 128
        self.register_buffer('freqs', torch.exp(-math.log(10000) * torch.arange(half, dtype=torch.float32) / half), persistent=False)

    def embed_patches(self, x):
        """timm PatchEmbed without pos_embed: [B, 8, H, W] → [B, (H/p)·(W/p), D]."""
        return self.x_embedder(x).flatten(2).transpose(1, 2)

    def forward(self, x, cond, t, y, mask):
        b = x.shape[0]
        h = self.embed_patches(torch.cat([x, cond], 1)) + self.pos_embed
        args = t.float()[:, None] * self.freqs[None]
        t_emb = self.t_fc2(F.silu(self.t_fc1(torch.cat([torch.cos(args), torch.sin(args)], -1))))
        t0 = self.t_block(F.silu(t_emb))
        y = self.y_fc2(F.gelu(self.y_fc1(y), approximate='tanh'))
        cross_bias = ((1.0 - mask) * -1e9)[:, None, None, :]
        for block in self.blocks:
            h = block(h, y, t0, cross_bias)
        shift, scale = (self.final_scale_shift_table[None] + t_emb[:, None]).chunk(2, 1)
        out = self.final_linear(t2i_modulate(F.layer_norm(h, (h.shape[-1],), eps=1e-6), shift, scale))
        g, p, c = self.grid, self.patch, self.out_channels
        out = out.reshape(b, g, g, p, p, c).permute(0, 5, 1, 3, 2, 4)
        return out.reshape(b, c, g * p, g * p)


# ---------------------------------------------------------------------------------------------
# The trainable model: everything but the ViT and the VAE
# ---------------------------------------------------------------------------------------------
class MigeTrainable(nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_vision = nn.LayerNorm(VIT['dim'], eps=1e-5)
        self.qformer = QFormer(QFORMER)
        self.ffm = FFMFusion(FFM)
        self.t5_proj = nn.Linear(QFORMER['hidden'], T5['d_model'])
        self.t5 = T5Encoder(T5)
        self.dit = PixArtDiT(DIT)

    def encode(self, vit_out, image_latents, token_index, mask):
        """ViT tokens [n, 17, 96] and the images' latents [n, 4, 16, 16] (unscaled), the T5 input's
        rows (token_index [B, L] into [vocabulary ‖ image tokens]) → y [B, L, 96]."""
        queries = self.qformer(self.ln_vision(vit_out))
        padded = F.pad(image_latents, (0, 0, 0, 0, 0, DIT['in_channels']))  # zero-pad to 8 channels
        fused = self.ffm(queries, self.dit.embed_patches(padded))
        tokens = self.t5_proj(fused).reshape(-1, T5['d_model'])
        table = torch.cat([self.t5.shared.weight, tokens], 0)  # gradients reach both
        return self.t5(F.embedding(token_index, table), mask)


# ---------------------------------------------------------------------------------------------
# 6. IDDPM: linear betas over 1000 steps (float64 tables, as numpy), hybrid loss
# ---------------------------------------------------------------------------------------------
class Iddpm:
    def __init__(self, steps=1000):
        betas = np.linspace(0.0001, 0.02, steps, dtype=np.float64)
        ac = np.cumprod(1.0 - betas)
        ac_prev = np.append(1.0, ac[:-1])
        post_var = betas * (1.0 - ac_prev) / (1.0 - ac)
        tables = dict(
            sqrt_ac=np.sqrt(ac), sqrt_1m_ac=np.sqrt(1.0 - ac),
            sqrt_recip_ac=np.sqrt(1.0 / ac), sqrt_recipm1_ac=np.sqrt(1.0 / ac - 1),
            post_logvar=np.log(np.append(post_var[1], post_var[1:])),
            log_betas=np.log(betas),
            coef1=betas * np.sqrt(ac_prev) / (1.0 - ac),
            coef2=(1.0 - ac_prev) * np.sqrt(1.0 - betas) / (1.0 - ac),
        )
        self.num_steps = steps
        self.t = {k: torch.from_numpy(v) for k, v in tables.items()}

    def at(self, name, t):
        return self.t[name][t].float()[:, None, None, None]

    def q_sample(self, x0, t, noise):
        return self.at('sqrt_ac', t) * x0 + self.at('sqrt_1m_ac', t) * noise


def normal_kl(m1, lv1, m2, lv2):
    return 0.5 * (-1.0 + lv2 - lv1 + torch.exp(lv1 - lv2) + (m1 - m2) ** 2 * torch.exp(-lv2))


def approx_std_normal_cdf(x):
    return 0.5 * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x.pow(3))))


def discretized_gaussian_log_likelihood(x, means, log_scales):
    centered = x - means
    inv_stdv = torch.exp(-log_scales)
    cdf_plus = approx_std_normal_cdf(inv_stdv * (centered + 1.0 / 255))
    cdf_min = approx_std_normal_cdf(inv_stdv * (centered - 1.0 / 255))
    log_cdf_plus = cdf_plus.clamp(min=1e-12).log()
    log_one_minus_cdf_min = (1.0 - cdf_min).clamp(min=1e-12).log()
    log_cdf_delta = (cdf_plus - cdf_min).clamp(min=1e-12).log()
    return torch.where(x < -0.999, log_cdf_plus, torch.where(x > 0.999, log_one_minus_cdf_min, log_cdf_delta))


def hybrid_loss(d, x0, t, noise, x_t, eps, variance):
    """training_losses (MSE, LEARNED_RANGE): mean over items of mse + vb (vb sees ε stopped)."""
    mse = (noise - eps).pow(2).mean((1, 2, 3))
    frozen = eps.detach()
    true_mean = d.at('coef1', t) * x0 + d.at('coef2', t) * x_t
    true_logvar = d.at('post_logvar', t)
    frac = (variance + 1) / 2
    model_logvar = frac * d.at('log_betas', t) + (1 - frac) * true_logvar
    pred_x0 = d.at('sqrt_recip_ac', t) * x_t - d.at('sqrt_recipm1_ac', t) * frozen
    model_mean = d.at('coef1', t) * pred_x0 + d.at('coef2', t) * x_t
    kl = normal_kl(true_mean, true_logvar, model_mean, model_logvar).mean((1, 2, 3)) / math.log(2.0)
    nll = -discretized_gaussian_log_likelihood(x0, model_mean, 0.5 * model_logvar).mean((1, 2, 3)) / math.log(2.0)
    vb = torch.where(t == 0, nll, kl)
    return (mse + vb).mean()


# ---------------------------------------------------------------------------------------------
# One step's synthetic data (made before the step's timer starts)
# ---------------------------------------------------------------------------------------------
def make_inputs(gen, batch, vae_images, n_images):
    """Images and the interleaved T5 layout of one batch: item i holds the i-th share of the
    instruction images (round robin), text of 14..30 ids (EOS included), 8 rows per image, padding
    to 72 with id 0. Image latents: the rows after the targets, in turn; item i's source is row
    batch + i when there is one (else zeros, a generation item)."""
    q, vocab = QFORMER['queries'], T5['vocab']
    vae = torch.rand(vae_images, 3, IMAGE_SIZE, IMAGE_SIZE, generator=gen) * 2 - 1
    vit = torch.randn(n_images, 3, VIT['img_size'], VIT['img_size'], generator=gen)
    others = vae_images - batch
    latent_rows = [batch + k % others if others > 0 else k % batch for k in range(n_images)]
    sources = [batch + i if batch + i < vae_images else -1 for i in range(batch)]
    per_item = [[k for k in range(n_images) if k % batch == i] for i in range(batch)]
    index = torch.zeros(batch, MAX_LENGTH, dtype=torch.long)
    mask = torch.zeros(batch, MAX_LENGTH)
    for i, imgs in enumerate(per_item):
        text = int(torch.randint(14, 31, (1,), generator=gen))
        ids = torch.randint(2, vocab, (text,), generator=gen)
        ids[-1] = 1  # </s>
        row, pos = [], 0
        cut = sorted(torch.randint(0, text - 1, (len(imgs),), generator=gen).tolist())
        for img, c in zip(imgs, cut):
            row += ids[pos:c].tolist() + [vocab + img * q + j for j in range(q)]
            pos = c
        row = (row + ids[pos:].tolist())[:MAX_LENGTH]
        index[i, :len(row)] = torch.tensor(row)
        mask[i, :len(row)] = 1
    return dict(vae=vae, vit=vit, latent_rows=latent_rows, sources=sources, index=index, mask=mask)


def median(xs):
    s = sorted(xs)
    n = len(s)
    return s[n // 2] if n % 2 else 0.5 * (s[n // 2 - 1] + s[n // 2])


def blas_summary():
    """What torch's build says about BLAS, plus the library this process actually loaded."""
    show = torch.__config__.show()
    info = next((part.split('=', 1)[1] for part in show.replace(',', '\n').split() if part.startswith('BLAS_INFO=')), '?')
    paths = set()
    try:
        with open('/proc/self/maps') as f:
            for line in f:
                name = line.split()[-1]
                if name.startswith('/') and ('blas' in name.lower() or 'mkl' in name.lower()):
                    paths.add(name)
    except OSError:
        pass
    summary = f'BLAS_INFO={info}'
    if paths:
        summary += f" (loaded: {', '.join(sorted(os.path.basename(x) for x in paths))})"
    for path in sorted(x for x in paths if 'openblas' in os.path.basename(x).lower()):
        try:
            import ctypes
            lib = ctypes.CDLL(path)
            lib.openblas_get_config.restype = ctypes.c_char_p
            summary += f"; {lib.openblas_get_config().decode().strip()}, {lib.openblas_get_num_threads()} BLAS thread(s)"
            break
        except (AttributeError, OSError):
            pass
    return summary


def main():
    a = ARGS
    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed + 1)

    vae = VaeEncoder(VAE).eval().requires_grad_(False)
    vit = EvaViT(VIT).eval().requires_grad_(False)
    model = MigeTrainable().train()
    params = [p for p in model.parameters() if p.requires_grad]
    n_params = sum(p.numel() for p in params)
    optimizer = torch.optim.AdamW(params, lr=LR, weight_decay=WEIGHT_DECAY, foreach=True)
    ema = [p.detach().clone() for p in params]
    diffusion = Iddpm()
    scale = VAE['scaling_factor']
    latent_shape = (VAE['latent_channels'], DIT['input_size'], DIT['input_size'])

    def step(inp):
        parts = {}
        t0 = time.perf_counter()
        # 1. frozen VAE: every image of the step in one batch.
        with torch.no_grad():
            latents = vae(inp['vae'], torch.randn(inp['vae'].shape[0], *latent_shape))
        b = a.batch
        x0 = latents[:b] * scale
        cond = torch.stack([latents[s] if s >= 0 else torch.zeros(latent_shape) for s in inp['sources']]) * scale
        image_latents = latents[inp['latent_rows']]
        t1 = time.perf_counter()
        parts['vae'] = t1 - t0
        # 2. frozen ViT on the instruction images.
        with torch.no_grad():
            vit_out = vit(inp['vit'])
        t2 = time.perf_counter()
        parts['vit'] = t2 - t1
        # 3-6. instruction encoder, fusion, condition dropout, DiT, loss; backward.
        y = model.encode(vit_out, image_latents, inp['index'], inp['mask'])
        u = torch.rand(b)
        p_y, p_s, p_both = CFG_DROPOUT
        drop_y = (u < p_y) | ((u >= p_y + p_s) & (u < p_y + p_s + p_both)) | (torch.rand(b) < CAPTION_DROPOUT)
        drop_source = (u >= p_y) & (u < p_y + p_s + p_both)
        y = torch.where(drop_y[:, None, None], model.dit.y_embedding[None].expand_as(y), y)
        cond = torch.where(drop_source[:, None, None, None], torch.zeros_like(cond), cond)
        t = torch.randint(0, diffusion.num_steps, (b,))
        noise = torch.randn(b, *latent_shape)
        x_t = diffusion.q_sample(x0, t, noise)
        out = model.dit(x_t, cond, t, y, inp['mask'])
        v, variance = out.chunk(2, 1)
        eps = diffusion.at('sqrt_ac', t) * v + diffusion.at('sqrt_1m_ac', t) * x_t
        loss = hybrid_loss(diffusion, x0, t, noise, x_t, eps, variance)
        loss.backward()
        t3 = time.perf_counter()
        parts['fwd_bwd'] = t3 - t2
        # 7. clipping, AdamW, EMA.
        torch.nn.utils.clip_grad_norm_(params, MAX_GRAD_NORM)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            torch._foreach_mul_(ema, EMA_DECAY)
            torch._foreach_add_(ema, params, alpha=1.0 - EMA_DECAY)
        t4 = time.perf_counter()
        parts['opt_ema'] = t4 - t3
        if not math.isfinite(float(loss)):
            raise RuntimeError(f'non-finite loss {float(loss)}')
        return t4 - t0, parts

    for _ in range(a.warmup):
        step(make_inputs(gen, a.batch, a.vae_images, a.images))
    seconds, cpu_seconds, parts = [], [], []
    for _ in range(a.steps):
        inp = make_inputs(gen, a.batch, a.vae_images, a.images)
        c0 = time.process_time()
        s, p = step(inp)
        # CPU time of the whole process (every thread): what a step costs when the machine is shared.
        cpu_seconds.append(round(time.process_time() - c0, 4))
        seconds.append(round(s, 4))
        parts.append(p)

    print(json.dumps({
        'threads': a.threads,
        'batch': a.batch,
        'stepSeconds': seconds,
        'stepCpuSeconds': cpu_seconds,
        'torch': torch.__version__,
        'blas': blas_summary(),
        'params': n_params,
        'parts': {k: round(median([p[k] for p in parts]), 4) for k in ('vae', 'vit', 'fwd_bwd', 'opt_ema')},
    }))
    sys.stdout.flush()


if __name__ == '__main__':
    main()
