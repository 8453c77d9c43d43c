"""Turns test/data/model/micro-state.safetensors (scripts/make-model-fixture.ts) into MIGE-style
model.pth files, as the official checkpoint is saved: torch.save({'state_dict': sd, ...}).

  micro-mige.pth          {'state_dict': sd, 'epoch': 3} in fp32, plus what MIGE's own state dict
                          holds and MIGE.js ignores: the tied t5_model.encoder.embed_tokens.weight
                          (sharing t5_model.shared.weight's storage) and the Q-Former's int64
                          position_ids buffer.
  micro-mige-flat-fp16.pth  sd itself (no wrapper), every tensor fp16.
  micro-mige-missing.pth  {'state_dict': sd without t_block.1.weight}.

Needs only torch (1.13 works): the safetensors file is parsed by hand.
Run: /usr/bin/python3 scripts/make-model-fixture-pth.py
"""
import json
import os
import struct

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, '..', 'test', 'data', 'model')
DTYPES = {'F32': torch.float32, 'I32': torch.int32, 'F16': torch.float16, 'I64': torch.int64}


def read_safetensors(path):
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        body = f.read()
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        start, end = info['data_offsets']
        raw = bytearray(body[start:end])
        t = torch.frombuffer(raw, dtype=DTYPES[info['dtype']]) if raw else torch.zeros(0, dtype=DTYPES[info['dtype']])
        out[name] = t.reshape(info['shape']).clone()
    return out


def main():
    sd = read_safetensors(os.path.join(DATA, 'micro-state.safetensors'))
    full = dict(sd)
    full['t5_model.encoder.embed_tokens.weight'] = full['t5_model.shared.weight']  # tied: one storage
    full['Qformer.bert.embeddings.position_ids'] = torch.arange(512, dtype=torch.int64)[None]
    torch.save({'state_dict': full, 'epoch': 3}, os.path.join(DATA, 'micro-mige.pth'))
    torch.save({k: v.half() if v.is_floating_point() else v for k, v in sd.items()}, os.path.join(DATA, 'micro-mige-flat-fp16.pth'))
    missing = {k: v for k, v in sd.items() if k != 't_block.1.weight'}
    torch.save({'state_dict': missing}, os.path.join(DATA, 'micro-mige-missing.pth'))
    print(f'{len(sd)} tensors')


if __name__ == '__main__':
    main()
