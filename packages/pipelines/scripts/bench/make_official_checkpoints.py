"""Random-weight checkpoints of official size in the official layouts, for bench-official.mjs.

Reads a spec (JSON) that the bench writes from the model's own names and shapes:
  {"files": [{"path": ..., "format": "safetensors" | "pth", "wrap": null | "state_dict" | "model",
              "dtype": "F32" | "F16", "tensors": [[name, [shape...]], ...]}, ...],
   "json": [{"path": ..., "value": {...}}, ...]}
and writes each file: safetensors by hand, one tensor generated and written at a time; .pth with
torch.save (the whole file's tensors in memory: EVA ViT-g in fp16 is the largest, 2 GB). Values
are N(0, 1/fan_in) for matrices and near 1 / near 0 for norm weights / biases, so activations stay
O(1) through the depth of the networks. Prints one JSON line: seconds, bytes and peak RSS.

Run by the bench: /usr/bin/python3 make_official_checkpoints.py spec.json  (needs torch; 1.13 works)
"""
import json
import os
import resource
import struct
import sys
import time

import torch

DTYPES = {'F32': torch.float32, 'F16': torch.float16}


def value(name, shape, dtype, gen):
    n = 1
    for d in shape:
        n *= d
    if len(shape) >= 2:
        fan_in = n // shape[0]
        t = torch.randn(shape, generator=gen) * (fan_in ** -0.5)
    elif name.endswith('weight'):
        t = 1 + 0.02 * torch.randn(shape, generator=gen)
    else:
        t = 0.02 * torch.randn(shape, generator=gen)
    return t.to(DTYPES[dtype])


def write_safetensors(spec, gen):
    item = torch.finfo(DTYPES[spec['dtype']]).bits // 8
    header, offset = {}, 0
    for name, shape in spec['tensors']:
        n = 1
        for d in shape:
            n *= d
        header[name] = {'dtype': spec['dtype'], 'shape': shape, 'data_offsets': [offset, offset + n * item]}
        offset += n * item
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    with open(spec['path'], 'wb') as f:
        f.write(struct.pack('<Q', len(head)))
        f.write(head)
        for name, shape in spec['tensors']:
            f.write(value(name, shape, spec['dtype'], gen).contiguous().numpy().tobytes())
    return os.path.getsize(spec['path'])


def write_pth(spec, gen):
    sd = {name: value(name, shape, spec['dtype'], gen) for name, shape in spec['tensors']}
    torch.save({spec['wrap']: sd} if spec['wrap'] else sd, spec['path'])
    return os.path.getsize(spec['path'])


def main():
    with open(sys.argv[1]) as f:
        spec = json.load(f)
    start = time.time()
    gen = torch.Generator().manual_seed(48)
    total = 0
    for item in spec.get('json', []):
        os.makedirs(os.path.dirname(item['path']), exist_ok=True)
        with open(item['path'], 'w') as f:
            json.dump(item['value'], f, indent=2)
    for file in spec['files']:
        os.makedirs(os.path.dirname(file['path']), exist_ok=True)
        t = time.time()
        size = (write_safetensors if file['format'] == 'safetensors' else write_pth)(file, gen)
        total += size
        print(f'{file["path"]}: {size / 2**30:.2f} GiB in {time.time() - t:.0f} s', file=sys.stderr, flush=True)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({'seconds': time.time() - start, 'bytes': total, 'peakRssBytes': peak_kib * 1024}))


if __name__ == '__main__':
    main()
