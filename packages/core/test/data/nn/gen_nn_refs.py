"""Reference values for @mige/core's nn modules, computed by PyTorch (Debian python3-torch 1.13).

Run: python3 gen_nn_refs.py  (writes nn_refs.safetensors next to this file; tests never run it).
Each case stores its module's state_dict under '<case>.' + key, inputs under '<case>.in.*' and
outputs under '<case>.out.*'.
"""
import json, os, struct
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

torch.manual_seed(1234)
T = {}

def put(name, t):
    # clone: .numpy() shares memory, and optimiser steps update parameters in place
    T[name] = t.detach().clone().to(torch.float32).contiguous().numpy()

def module(case, m):
    for k, v in m.state_dict().items():
        put(f"{case}.{k}", v)

def randomize(m):
    # Non-trivial values everywhere (PyTorch zero-inits MHA biases and LayerNorm is ones/zeros).
    with torch.no_grad():
        for p in m.parameters():
            p.copy_(torch.randn_like(p) * 0.3)
    return m

# --- MultiheadAttention -------------------------------------------------------------------
m = randomize(nn.MultiheadAttention(32, 4)).eval()
x = torch.randn(5, 2, 32)
kpm = torch.tensor([[False] * 5, [False, False, False, True, True]])
out, w = m(x, x, x, key_padding_mask=kpm, need_weights=True)
module("mha_self", m); put("mha_self.in.x", x); put("mha_self.in.key_padding_mask", kpm)
put("mha_self.out.y", out); put("mha_self.out.weights", w)

m = randomize(nn.MultiheadAttention(24, 3, kdim=20, vdim=12, batch_first=True)).eval()
q = torch.randn(2, 6, 24); k = torch.randn(2, 7, 20); v = torch.randn(2, 7, 12)
am = torch.randn(6, 7)
kpm = torch.zeros(2, 7, dtype=torch.bool); kpm[0, 6] = True; kpm[1, 0] = True
out, w = m(q, k, v, attn_mask=am, key_padding_mask=kpm, need_weights=True)
module("mha_cross", m)
for n, t in [("q", q), ("k", k), ("v", v), ("attn_mask", am), ("key_padding_mask", kpm)]: put(f"mha_cross.in.{n}", t)
put("mha_cross.out.y", out); put("mha_cross.out.weights", w)

m = randomize(nn.MultiheadAttention(16, 2, batch_first=True, bias=False)).eval()
q = torch.randn(2, 4, 16); kv = torch.randn(2, 5, 16)
bm = torch.rand(4, 4, 5) < 0.3; bm[:, :, 0] = False  # never a fully masked row
out, _ = m(q, kv, kv, attn_mask=bm, need_weights=False)
module("mha_boolmask", m); put("mha_boolmask.in.q", q); put("mha_boolmask.in.kv", kv)
put("mha_boolmask.in.attn_mask", bm); put("mha_boolmask.out.y", out)

# --- norms ---------------------------------------------------------------------------------
x = torch.randn(2, 5, 16) * 3 + 1
m = randomize(nn.LayerNorm(16, eps=1e-6)); module("ln_affine", m)
put("ln_affine.in.x", x); put("ln_affine.out.y", m(x))
m = nn.LayerNorm(16, elementwise_affine=False)
put("ln_plain.in.x", x); put("ln_plain.out.y", m(x))

x = torch.randn(2, 16, 5, 6) * 2 - 0.5
m = randomize(nn.GroupNorm(4, 16, eps=1e-6)); module("gn", m)
put("gn.in.x", x); put("gn.out.y", m(x))

# --- convolutions (forward and gradients of sum(out * r)) -----------------------------------
conv_cases = {
    "conv3x3": dict(cin=3, cout=5, k=3, stride=1, padding=1, dilation=1, hw=(9, 10)),
    "conv_s2": dict(cin=4, cout=6, k=3, stride=2, padding=1, dilation=1, hw=(9, 8)),
    "conv_dil2": dict(cin=3, cout=4, k=3, stride=1, padding=2, dilation=2, hw=(8, 8)),
    "conv_1x1": dict(cin=6, cout=3, k=1, stride=1, padding=0, dilation=1, hw=(5, 4)),
    "conv_patch": dict(cin=8, cout=12, k=2, stride=2, padding=0, dilation=1, hw=(8, 6)),
}
meta = {}
for case, c in conv_cases.items():
    m = nn.Conv2d(c["cin"], c["cout"], c["k"], stride=c["stride"], padding=c["padding"], dilation=c["dilation"])
    x = torch.randn(2, c["cin"], *c["hw"], requires_grad=True)
    y = m(x)
    r = torch.randn_like(y)
    (y * r).sum().backward()
    module(case, m); put(f"{case}.in.x", x); put(f"{case}.in.r", r); put(f"{case}.out.y", y)
    put(f"{case}.grad.x", x.grad); put(f"{case}.grad.weight", m.weight.grad); put(f"{case}.grad.bias", m.bias.grad)
    meta[case] = c

# --- activations ---------------------------------------------------------------------------
x = torch.linspace(-8, 8, 401)
put("gelu.in.x", x); put("gelu.out.erf", F.gelu(x)); put("gelu.out.tanh", F.gelu(x, approximate="tanh"))
xg = x.clone().requires_grad_(True); F.gelu(xg).sum().backward(); put("gelu.grad.erf", xg.grad)
xg = x.clone().requires_grad_(True); F.gelu(xg, approximate="tanh").sum().backward(); put("gelu.grad.tanh", xg.grad)

# --- Linear and Embedding --------------------------------------------------------------------
m = nn.Linear(7, 5); x = torch.randn(3, 4, 7)
module("linear", m); put("linear.in.x", x); put("linear.out.y", m(x))
m = nn.Embedding(11, 6); ids = torch.tensor([[0, 3, 10], [5, 5, 1]])
module("embedding", m); put("embedding.in.ids", ids); put("embedding.out.y", m(ids))

# --- AdamW with clipping over 3 steps --------------------------------------------------------
p1 = torch.randn(4, 3, requires_grad=True); p2 = torch.randn(5, requires_grad=True)
put("adamw.init.p1", p1); put("adamw.init.p2", p2)
opt = torch.optim.AdamW([p1, p2], lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.03)
for step in range(3):
    g1 = torch.randn(4, 3) * (step + 1); g2 = torch.randn(5) * (step + 1)
    put(f"adamw.grad{step}.p1", g1); put(f"adamw.grad{step}.p2", g2)
    p1.grad = g1.clone(); p2.grad = g2.clone()
    norm = torch.nn.utils.clip_grad_norm_([p1, p2], max_norm=1.0)
    put(f"adamw.norm{step}", norm.reshape(1))
    opt.step()
    put(f"adamw.after{step}.p1", p1); put(f"adamw.after{step}.p2", p2)

# --- write safetensors (F32 only) ------------------------------------------------------------
header, offset, blobs = {}, 0, []
for name in sorted(T):
    a = np.ascontiguousarray(T[name], dtype="<f4")
    b = a.tobytes()
    header[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [offset, offset + len(b)]}
    offset += len(b); blobs.append(b)
header["__metadata__"] = {"generator": "gen_nn_refs.py", "torch": torch.__version__, "conv_cases": json.dumps(meta)}
h = json.dumps(header, separators=(",", ":")).encode()
h += b" " * ((8 - len(h) % 8) % 8)
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "nn_refs.safetensors")
with open(out, "wb") as f:
    f.write(struct.pack("<Q", len(h))); f.write(h)
    for b in blobs: f.write(b)
print("wrote", out, len(T), "tensors", offset, "bytes")
