#!/usr/bin/env python3
"""Generates the image test inputs and the PIL / torchvision reference outputs for
packages/core/test/image/*.test.ts. The tests never run Python; they read what this writes:

  *.png / *.jpg / *.webp / *.gif   test inputs (decoded by the tests with sharp)
  refs.json                        manifest: one entry per reference array (op, params, shape, dtype)
  refs.bin.gz                      all reference arrays back to back (gzip), located by refs.json

Run with the Debian interpreter, which has the packages (`apt-get install -y python3-pil
python3-torchvision`):  /usr/bin/python3 packages/core/test/data/image/gen_image_refs.py
Last generated with Pillow 9.4.0, torch 1.13.1, torchvision 0.14.1.
"""
import gzip
import json
import pathlib
import struct
import zlib

import numpy as np
import PIL
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T
from torchvision.transforms import InterpolationMode

OUT = pathlib.Path(__file__).resolve().parent
CLIP_MEAN = (0.48145466, 0.4578275, 0.40821073)
CLIP_STD = (0.26862954, 0.26130258, 0.27577711)
FILTERS = {'nearest': Image.NEAREST, 'bilinear': Image.BILINEAR, 'bicubic': Image.BICUBIC}

rng = np.random.default_rng(20250601)
entries = []
blob = bytearray()


def add_ref(name, array, **meta):
    """Appends one array to the blob; dtype is uint8 or float32, shape as stored (HWC or CHW)."""
    array = np.ascontiguousarray(array)
    assert array.dtype in (np.uint8, np.float32), array.dtype
    entries.append({
        'name': name, **meta,
        'dtype': str(array.dtype), 'shape': list(array.shape),
        'offset': len(blob), 'length': array.nbytes,
    })
    blob.extend(array.tobytes())


def write_png(path, array, bit_depth, color_type):
    """Minimal PNG writer for what PIL cannot save: 16-bit RGB/RGBA/gray and 4-bit gray."""
    h, w = array.shape[:2]
    if bit_depth == 16:
        rows = [array[y].astype('>u2').tobytes() for y in range(h)]
    elif bit_depth == 4:
        rows = [bytes((array[y, x] << 4) | (array[y, x + 1] if x + 1 < w else 0)
                      for x in range(0, w, 2)) for y in range(h)]
    else:
        raise ValueError(bit_depth)
    raw = b''.join(b'\x00' + r for r in rows)

    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    ihdr = struct.pack('>IIBBBBB', w, h, bit_depth, color_type, 0, 0, 0)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', zlib.compress(raw, 9))
                     + chunk(b'IEND', b''))


def huge_header_png(path, width, height):
    """A PNG whose header claims width x height but carries almost no data: a decompression bomb
    stand-in that must be rejected from its header alone."""
    def chunk(kind, data):
        return struct.pack('>I', len(data)) + kind + data + struct.pack('>I', zlib.crc32(kind + data))
    ihdr = struct.pack('>IIBBBBB', width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b'\x00' * 4096)
    path.write_bytes(b'\x89PNG\r\n\x1a\n' + chunk(b'IHDR', ihdr) + chunk(b'IDAT', idat) + chunk(b'IEND', b''))


# ---- inputs -------------------------------------------------------------------------------------

def make_noise():
    """37x23: a sawtooth ramp (R), white noise (G) and hard 0/255 blocks (B), so that bicubic
    overshoots and PIL's clipping are exercised."""
    h, w = 23, 37
    yy, xx = np.mgrid[0:h, 0:w]
    r = (xx * 7 + yy * 3) % 256
    g = rng.integers(0, 256, (h, w))
    b = np.where(((xx // 4) + (yy // 3)) % 2 == 0, 0, 255)
    return np.stack([r, g, b], -1).astype(np.uint8)


def make_photo():
    """96x64 smooth 'photo-like' content with mild noise (compresses well, realistic for JPEG)."""
    h, w = 64, 96
    yy, xx = np.mgrid[0:h, 0:w]
    base = np.stack([128 + 100 * np.sin(xx / 9.0) * np.cos(yy / 6.0),
                     40 + 1.6 * (xx + yy),
                     255 * (xx / w) * (1 - yy / h) + 30], -1)
    return np.clip(base + rng.normal(0, 6, (h, w, 3)), 0, 255).astype(np.uint8)


noise = make_noise()
photo = make_photo()
alpha = rng.integers(0, 256, noise.shape[:2]).astype(np.uint8)
alpha[0, :] = 0  # fully transparent row: PIL's convert('RGB') keeps its colours

Image.fromarray(noise).save(OUT / 'noise_rgb.png')
Image.fromarray(photo).save(OUT / 'photo_rgb.png')
Image.fromarray(np.dstack([noise, alpha]), 'RGBA').save(OUT / 'alpha_rgba.png')
Image.fromarray(noise[..., 1], 'L').save(OUT / 'gray_l.png')
Image.fromarray(np.dstack([noise[..., 1], alpha]), 'LA').save(OUT / 'gray_la.png')
Image.fromarray(noise).quantize(16).save(OUT / 'palette_p.png', transparency=3)
Image.fromarray(noise[..., 2] > 127).save(OUT / 'bilevel_1bit.png')
write_png(OUT / 'gray_4bit.png', (noise[..., 1] >> 4).astype(np.uint8), 4, 0)
write_png(OUT / 'rgb_16bit.png', rng.integers(0, 65536, (23, 37, 3)), 16, 2)
write_png(OUT / 'rgba_16bit.png', rng.integers(0, 65536, (23, 37, 4)), 16, 6)
gray16 = rng.integers(0, 65536, (23, 37))
gray16[:6] = rng.integers(0, 400, (6, 37))  # values around 255, where PIL's clipping shows
write_png(OUT / 'gray_16bit.png', gray16, 16, 0)
Image.fromarray(photo).save(OUT / 'photo_420.jpg', quality=85)
Image.fromarray(photo).save(OUT / 'photo_progressive.jpg', quality=75, progressive=True)
Image.fromarray(photo[..., 0]).save(OUT / 'photo_gray.jpg', quality=80)
Image.fromarray(photo).convert('CMYK').save(OUT / 'photo_cmyk.jpg', quality=90)
exif = Image.Exif()
exif[0x0112] = 6  # "rotate 90 CW to display": PIL does not apply it on open, so neither may we
Image.fromarray(photo).save(OUT / 'photo_exif_rot90.jpg', quality=85, exif=exif.tobytes())
Image.fromarray(noise).save(OUT / 'noise_lossless.webp', lossless=True)
Image.fromarray(np.dstack([noise, alpha]), 'RGBA').save(OUT / 'alpha_lossless.webp', lossless=True)
Image.fromarray(photo).save(OUT / 'photo_lossy.webp', quality=70)
Image.fromarray(noise).quantize(16).save(OUT / 'noise.gif')
huge_header_png(OUT / 'huge_header.png', 30000, 20000)

DECODE_INPUTS = [
    'noise_rgb.png', 'photo_rgb.png', 'alpha_rgba.png', 'gray_l.png', 'gray_la.png', 'palette_p.png',
    'bilevel_1bit.png', 'gray_4bit.png', 'rgb_16bit.png', 'rgba_16bit.png', 'gray_16bit.png',
    'photo_420.jpg', 'photo_progressive.jpg', 'photo_gray.jpg', 'photo_cmyk.jpg',
    'photo_exif_rot90.jpg', 'noise_lossless.webp', 'alpha_lossless.webp', 'photo_lossy.webp',
]
for file in DECODE_INPUTS:
    with Image.open(OUT / file) as im:
        mode = im.mode
        rgb = np.asarray(im.convert('RGB'))
    add_ref(f'decode:{file}', rgb, op='decode', input=file, pilMode=mode)

# ---- resampling (PIL Image.resize, which torchvision calls for PIL inputs) ----------------------

# Inputs of the pixel ops, stored as refs named 'input:<key>' (key ':T' = transposed, a portrait image).
sources = {'noise_rgb.png': noise, 'noise_rgb.png:T': noise.transpose(1, 0, 2).copy(), 'photo_rgb.png': photo}
for key, array in sources.items():
    add_ref(f'input:{key}', array, op='input')
RESIZE_CASES = [
    ('noise_rgb.png', size) for size in
    [(16, 10), (64, 41), (5, 3), (37, 10), (20, 23), (1, 1), (74, 46), (36, 22), (38, 24), (7, 40)]
]
for source, (w, h) in RESIZE_CASES:
    for name, flt in FILTERS.items():
        out = np.asarray(Image.fromarray(sources[source]).resize((w, h), flt))
        add_ref(f'resize:{source}:{w}x{h}:{name}', out, op='resize', input=source,
                width=w, height=h, filter=name)
for (w, h), flt in [((47, 31), 'bilinear'), ((47, 31), 'bicubic'), ((13, 5), 'bicubic'),
                    ((112, 112), 'bicubic'), ((121, 79), 'bilinear')]:
    out = np.asarray(Image.fromarray(photo).resize((w, h), FILTERS[flt]))
    add_ref(f'resize:photo_rgb.png:{w}x{h}:{flt}', out, op='resize', input='photo_rgb.png',
            width=w, height=h, filter=flt)

# ---- torchvision Resize(short side) and CenterCrop on PIL images --------------------------------

MODES = {'bilinear': InterpolationMode.BILINEAR, 'bicubic': InterpolationMode.BICUBIC,
         'nearest': InterpolationMode.NEAREST}
for source, size, flt in [('noise_rgb.png', 16, 'bilinear'), ('noise_rgb.png', 10, 'bilinear'),
                          ('noise_rgb.png:T', 16, 'bicubic'), ('noise_rgb.png', 30, 'bicubic'),
                          ('photo_rgb.png', 48, 'bilinear'), ('photo_rgb.png', 37, 'nearest')]:
    out = np.asarray(T.Resize(size, interpolation=MODES[flt])(Image.fromarray(sources[source])))
    add_ref(f'resizeShortSide:{source}:{size}:{flt}', out, op='resizeShortSide', input=source,
            size=size, filter=flt)

for source, (h, w) in [('noise_rgb.png', (16, 16)), ('noise_rgb.png', (6, 8)), ('noise_rgb.png', (30, 40)),
                       ('noise_rgb.png', (30, 20)), ('noise_rgb.png', (9, 41)), ('noise_rgb.png:T', (9, 9)),
                       ('noise_rgb.png', (23, 37))]:
    out = np.asarray(T.CenterCrop((h, w))(Image.fromarray(sources[source])))
    add_ref(f'centerCrop:{source}:{w}x{h}', out, op='centerCrop', input=source, width=w, height=h)

# ---- full float transforms (CHW float32) -------------------------------------------------------


def vae_transform(size):
    return T.Compose([T.Resize(size), T.CenterCrop(size), T.ToTensor(), T.Normalize([0.5], [0.5])])


def blip_eval_transform(size):
    return T.Compose([T.Resize((size, size), interpolation=InterpolationMode.BICUBIC), T.ToTensor(),
                      T.Normalize(CLIP_MEAN, CLIP_STD)])


for source in ['noise_rgb.png', 'noise_rgb.png:T', 'photo_rgb.png']:
    for size in [16, 21]:
        out = vae_transform(size)(Image.fromarray(sources[source])).numpy()
        add_ref(f'vaeTransform:{source}:{size}', out, op='vaeTransform', input=source, size=size)
    for size in [12, 33]:
        out = blip_eval_transform(size)(Image.fromarray(sources[source])).numpy()
        add_ref(f'blipEvalTransform:{source}:{size}', out, op='blipEvalTransform', input=source, size=size)

# Every uint8 value through ToTensor + Normalize, per channel, for both presets' statistics.
ramp = np.repeat(np.arange(256, dtype=np.uint8)[None, :, None], 3, axis=2)  # 1x256 RGB
add_ref('input:ramp', ramp, op='input')
for name, mean, std in [('half', [0.5] * 3, [0.5] * 3), ('clip', CLIP_MEAN, CLIP_STD)]:
    out = T.Normalize(mean, std)(T.ToTensor()(Image.fromarray(ramp))).numpy()
    add_ref(f'normalize:{name}', out, op='normalize', input='ramp', mean=list(mean), std=list(std))

# ---- tensor -> uint8 (torchvision.utils.save_image's rounding, after (x + 1) / 2) --------------

values = np.concatenate([
    np.linspace(-1.3, 1.3, 1000, dtype=np.float32),
    # the exact half-way points between uint8 levels, and their float32 neighbours
    *[np.nextafter(((np.arange(256, dtype=np.float32) + 0.5) / 255) * 2 - 1, d).astype(np.float32)
      for d in (-np.inf, np.inf)],
    ((np.arange(256, dtype=np.float32) + 0.5) / 255) * 2 - 1,
    rng.uniform(-1.05, 1.05, 3 * 20 * 37 - 1000 - 3 * 256).astype(np.float32),
]).astype(np.float32).reshape(1, 3, 20, 37)
tensor = torch.from_numpy(values)
grid = ((tensor + 1) / 2).clamp(0, 1)[0]
saved = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to('cpu', torch.uint8).numpy()
add_ref('input:toImage', values, op='input')
add_ref('toImage:saveImage', saved, op='tensorToImages', input='toImage')

(OUT / 'refs.bin.gz').write_bytes(gzip.compress(bytes(blob), 9, mtime=0))
(OUT / 'refs.json').write_text(json.dumps({
    'generator': 'gen_image_refs.py',
    'versions': {'pillow': PIL.__version__, 'torch': torch.__version__, 'torchvision': torchvision.__version__},
    'entries': entries,
}, indent=1) + '\n')
print(f'{len(entries)} refs, {len(blob)} bytes raw')
