import * as fs from 'node:fs';
import * as path from 'node:path';
import { IO_DATA_DIR } from './paths.js';

/** One tensor as gen_pth.py describes it (values flattened row-major). */
export interface ExpectedTensor {
  dtype: string;
  shape: number[];
  stride: number[];
  storage_offset: number;
  contiguous: boolean;
  values: (number | string)[];
}

export interface ExpectedPth {
  plain: Record<string, ExpectedTensor>;
  plain_storage_shared: [string, string][];
  deep: Record<string, ExpectedTensor>;
}

export const expectedPth = JSON.parse(fs.readFileSync(path.join(IO_DATA_DIR, 'expected.json'), 'utf8')) as ExpectedPth;

/** The JSON's stand-ins for values JSON cannot hold. */
export function expectedValues(t: ExpectedTensor): number[] {
  const special: Record<string, number> = { nan: NaN, inf: Infinity, '-inf': -Infinity, '-0': -0 };
  return t.values.map((v) => (typeof v === 'string' ? (special[v] as number) : v));
}

export const pthPath = (name: string): string => path.join(IO_DATA_DIR, name);
