import type { FuzzCase } from '../case.js';
import { datasetCases } from './dataset.js';
import { pthCases } from './pth.js';
import { safetensorsCases } from './safetensors.js';

/** Every file-loader case, in a fixed order. */
export function loaderCases(): FuzzCase[] {
  return [...pthCases(), ...safetensorsCases(), ...datasetCases()];
}
