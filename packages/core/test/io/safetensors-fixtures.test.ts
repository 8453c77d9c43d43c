import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SafetensorsReader, serializeSafetensors, type WritableTensor } from '../../src/io/safetensors.js';
import { FIXTURES_DIR, listFiles } from './helpers/paths.js';

interface ConfigTensor {
  shape: number[];
  dtype: string;
  max_abs?: number;
  mean_abs?: number;
}

/** config.json sections that describe a file: { file: 'weights.safetensors', tensors: {...} }. */
function describedTensors(file: string): Record<string, ConfigTensor> | undefined {
  const configPath = path.join(path.dirname(file), 'config.json');
  if (!fs.existsSync(configPath)) return undefined;
  const config = JSON.parse(fs.readFileSync(configPath, 'utf8')) as Record<string, unknown>;
  for (const section of Object.values(config)) {
    if (typeof section !== 'object' || section === null) continue;
    const s = section as { file?: unknown; tensors?: unknown };
    if (s.file === path.basename(file) && typeof s.tensors === 'object' && s.tensors !== null) {
      return s.tensors as Record<string, ConfigTensor>;
    }
  }
  return undefined;
}

const FILE_DTYPE: Record<string, string> = { float32: 'F32', int64: 'I64' };

const files = listFiles(FIXTURES_DIR, '.safetensors');

describe('reference fixtures', () => {
  it('finds the fixture files', () => {
    expect(files.length).toBeGreaterThanOrEqual(17);
  });

  for (const file of files) {
    const label = path.relative(FIXTURES_DIR, file);
    it(`${label} loads, matches config.json, and re-serializes to identical bytes`, () => {
      const reader = SafetensorsReader.open(file);
      try {
        expect(reader.metadata.fixture).toBe(path.basename(path.dirname(file)));
        const expected = describedTensors(file);
        if (expected) expect(reader.keys().slice().sort()).toEqual(Object.keys(expected).sort());
        const rewritten = new Map<string, WritableTensor>();
        for (const name of reader.keys()) {
          const info = reader.info(name);
          const tensor = reader.read(name);
          expect(tensor.shape).toEqual(info.shape);
          expect(tensor.data.length).toBe(info.shape.reduce((a, b) => a * b, 1));
          const want = expected?.[name];
          if (want) {
            expect(info.shape, name).toEqual(want.shape);
            expect(info.dtype, name).toBe(FILE_DTYPE[want.dtype]);
            if (want.max_abs !== undefined && want.mean_abs !== undefined) {
              let max = 0;
              let sum = 0;
              for (const v of tensor.data) {
                max = Math.max(max, Math.abs(v));
                sum += Math.abs(v);
              }
              expect(max, name).toBe(want.max_abs); // max of float32 values is exact
              // torch averaged in float32: allow float32-level relative error.
              expect(Math.abs(sum / tensor.data.length - want.mean_abs), name).toBeLessThanOrEqual(
                1e-6 * Math.max(1, want.mean_abs),
              );
            }
          }
          rewritten.set(name, { dtype: info.dtype, shape: info.shape, data: tensor.data });
        }
        // Same layout rules as the reference writer: identical file bytes.
        const again = serializeSafetensors(rewritten, { ...reader.metadata });
        expect(again.equals(fs.readFileSync(file))).toBe(true);
      } finally {
        reader.close();
      }
    });
  }
});
