"""Generates the .pth test files for packages/core/test/io (run with Debian's python3-torch 1.13).

    cd packages/core/test/data/io && /usr/bin/python3 gen_pth.py

Writes small torch.save checkpoints plus expected.json (names, dtypes, shapes, strides, storage
sharing and exact values) so the TypeScript tests compare without running Python. Deterministic:
fixed seed, and the zip archives torch writes carry no timestamps that vary between runs.
"""
import collections
import json
import math
import os
import pickle
import zipfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
torch.manual_seed(1234)


def path(name):
    return os.path.join(HERE, name)


def encode(v):
    """JSON-safe scalar: non-finite floats and negative zero as strings."""
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        if v == 0 and math.copysign(1, v) < 0:
            return "-0"
    return v


def describe(t):
    values = t.detach().reshape(-1)
    values = values.to(torch.int64) if t.dtype == torch.bool else values
    values = values.to(torch.float64) if t.is_floating_point() else values
    return {
        "dtype": str(t.dtype).replace("torch.", ""),
        "shape": list(t.shape),
        "stride": list(t.stride()),
        "storage_offset": t.storage_offset(),
        "contiguous": t.is_contiguous(),
        "values": [encode(v) for v in values.tolist()],
    }


def plain_state_dict():
    lin = torch.nn.Linear(4, 3)
    sd = lin.state_dict()  # an OrderedDict with a _metadata attribute, like real checkpoints
    base = torch.randn(3, 5)
    grid = torch.arange(24, dtype=torch.float32).view(4, 6)
    emb = torch.randn(6, 2)
    sd["half"] = torch.tensor([1.0, -0.0, 0.1, 65504.0, float("inf"), float("nan"), 6e-8, -2.5], dtype=torch.float16)
    sd["bf16"] = torch.tensor([1.0, -0.0, 3.140625, -1e30, float("-inf"), 1e-40], dtype=torch.bfloat16)
    sd["float64"] = torch.tensor([1.0 / 3.0, -2.5e-10], dtype=torch.float64)
    sd["ids"] = torch.tensor([[0, -1, 2147483647], [-2147483648, 42, -7]], dtype=torch.int64)
    sd["int32"] = torch.tensor([5, -6], dtype=torch.int32)
    sd["int16"] = torch.tensor([-300, 300], dtype=torch.int16)
    sd["int8"] = torch.tensor([-128, 127], dtype=torch.int8)
    sd["uint8"] = torch.tensor([0, 200, 255], dtype=torch.uint8)
    sd["mask"] = torch.tensor([True, False, True])
    sd["transposed"] = base.t()  # non-contiguous: stride (1, 5)
    sd["sliced"] = grid[1:3, ::2]  # offset 6, stride (6, 2)
    sd["expanded"] = torch.tensor([1.5, 2.5, 3.5]).expand(2, 3)  # stride (0, 1)
    sd["row_of_weight"] = sd["weight"][1]  # second view on the weight's storage (offset 4)
    sd["embed.weight"] = emb
    sd["lm_head.weight"] = emb  # tied: the very same tensor object
    sd["scalar"] = torch.tensor(3.5)
    sd["empty"] = torch.zeros(0, 3)
    sd["param"] = torch.nn.Parameter(torch.randn(2))
    return sd


def save(obj, name, **kwargs):
    torch.save(obj, path(name), **kwargs)


class Evil:
    """Pickles as a call to os.system; loading it with pickle would run the shell command."""

    def __reduce__(self):
        return (os.system, ("echo pwned > /tmp/mige-pwned",))


class EvalEvil:
    def __reduce__(self):
        return (eval, ("__import__('os').system('echo pwned')",))


def rezip(src, dst, compression, zip64=False):
    """Rewrites a torch zip with another layout (deflate, ZIP64) to exercise the zip reader."""
    limit = zipfile.ZIP64_LIMIT
    if zip64:
        zipfile.ZIP64_LIMIT = 16  # every size/offset over 16 bytes now takes the ZIP64 path
    try:
        with zipfile.ZipFile(path(src)) as zin, zipfile.ZipFile(path(dst), "w", compression, allowZip64=True) as zout:
            for info in zin.infolist():
                out = zipfile.ZipInfo(info.filename, date_time=(2020, 1, 1, 0, 0, 0))
                out.compress_type = compression
                zout.writestr(out, zin.read(info.filename))
    finally:
        zipfile.ZIP64_LIMIT = limit


def main():
    expected = {}
    sd = plain_state_dict()
    save(sd, "plain.pth")
    expected["plain"] = {k: describe(v) for k, v in sd.items()}
    expected["plain_storage_shared"] = [["embed.weight", "lm_head.weight"], ["weight", "row_of_weight"]]

    save({"state_dict": sd, "epoch": 7, "optimizer_name": "adamw", "lr": 0.0001}, "wrapped.pth")

    inner = collections.OrderedDict(w=torch.arange(6, dtype=torch.float32).view(2, 3), b=torch.tensor([0.5, -0.5]))
    deep = {
        "model": {
            "encoder": {"layer": {"0": inner, "1": {"w": torch.ones(2, 2) * 2}}},
            "decoder": {"blocks": [{"w": torch.tensor([1.0, 2.0])}, {"w": torch.tensor([3.0])}], "name": "dec"},
            "scale": torch.tensor(0.25),
        },
        "ema": {"scale": torch.tensor(0.5)},
        "step": 100,
        "config": {"lr": 1e-4, "betas": (0.9, 0.999), "name": "mige", "flags": [True, None]},
    }
    save(deep, "deep.pth")
    flat = {
        "encoder.layer.0.w": deep["model"]["encoder"]["layer"]["0"]["w"],
        "encoder.layer.0.b": deep["model"]["encoder"]["layer"]["0"]["b"],
        "encoder.layer.1.w": deep["model"]["encoder"]["layer"]["1"]["w"],
        "decoder.blocks.0.w": deep["model"]["decoder"]["blocks"][0]["w"],
        "decoder.blocks.1.w": deep["model"]["decoder"]["blocks"][1]["w"],
        "scale": deep["model"]["scale"],
    }
    expected["deep"] = {k: describe(v) for k, v in flat.items()}

    save({"weights": torch.ones(2), "payload": Evil()}, "evil_os_system.pth")
    save({"weights": torch.ones(2), "payload": EvalEvil()}, "evil_eval.pth")  # protocol 2: '__builtin__ eval'
    # Protocol 4 spells it 'builtins eval' (STACK_GLOBAL) and adds FRAME/MEMOIZE opcodes.
    save({"weights": torch.ones(2), "payload": EvalEvil()}, "evil_eval_proto4.pth", pickle_protocol=4)
    save(sd, "plain_proto4.pth", pickle_protocol=4)
    save(sd, "legacy.pth", _use_new_zipfile_serialization=False)
    with open(path("plain_pickle.pkl"), "wb") as f:  # a bare pickle, not a checkpoint at all
        pickle.dump({"a": 1}, f, protocol=2)

    rounding = torch.cat([torch.randn(200) * 10, torch.randn(50) * 1e-5, torch.tensor([65519.0, 65520.0, 1e-8, -3e38])])
    save({"x": rounding, "x_half": rounding.half(), "x_bf16": rounding.bfloat16()}, "rounding.pth")

    rezip("plain.pth", "plain_deflated.pth", zipfile.ZIP_DEFLATED)
    rezip("plain.pth", "plain_zip64.pth", zipfile.ZIP_STORED, zip64=True)
    with zipfile.ZipFile(path("plain.pth")) as original:  # same entries, different packaging
        for name in ["plain_deflated.pth", "plain_zip64.pth"]:
            with zipfile.ZipFile(path(name)) as z:
                assert z.testzip() is None
                assert all(z.read(i.filename) == original.read(i.filename) for i in original.infolist())

    with open(path("expected.json"), "w") as f:
        json.dump(expected, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
