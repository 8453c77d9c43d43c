import { buildZip } from '@mige/core/testing';
import * as fs from 'node:fs';
import type { TensorData } from '@mige/core';

/**
 * Writes float32 tensors as a torch.save zip checkpoint ({name: tensor}, pickle protocol 2, stored
 * entries), the layout of diffusers' diffusion_pytorch_model.bin, so the tests need no Python.
 */
export function writeTorchZip(file: string, tensors: Map<string, TensorData>): void {
  const parts: Buffer[] = [Buffer.from([0x80, 0x02]), op('}(')];
  const entries: Record<string, Buffer> = {};
  let key = 0;
  for (const [name, t] of tensors) {
    const storage = String(key++);
    const strides = t.shape.map((_, i) => t.shape.slice(i + 1).reduce((a, b) => a * b, 1));
    parts.push(
      str(name),
      op('ctorch._utils\n_rebuild_tensor_v2\n('),
      op('('), str('storage'), op('ctorch\nFloatStorage\n'), str(storage), str('cpu'), int(t.data.length), op('tQ'),
      int(0), tuple(t.shape), tuple(strides), Buffer.from([0x89]), op('ccollections\nOrderedDict\n)R'),
      op('tR'),
    );
    entries[`archive/data/${storage}`] = Buffer.from(new Float32Array(t.data).buffer);
  }
  parts.push(op('u.'));
  fs.writeFileSync(file, buildZip({ 'archive/data.pkl': Buffer.concat(parts), ...entries, 'archive/version': Buffer.from('3\n') }));
}

const op = (s: string): Buffer => Buffer.from(s, 'latin1');

/** BININT */
function int(v: number): Buffer {
  const b = Buffer.alloc(5);
  b.write('J', 0, 'latin1');
  b.writeInt32LE(v, 1);
  return b;
}

const tuple = (xs: number[]): Buffer => Buffer.concat([op('('), ...xs.map(int), op('t')]);

/** BINUNICODE */
function str(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const head = Buffer.alloc(5);
  head.write('X', 0, 'latin1');
  head.writeUInt32LE(bytes.length, 1);
  return Buffer.concat([head, bytes]);
}

