import type { FuzzCase } from '../case.js';
import { loaderCases } from './index.js';
import { modelFolderCases } from './model-folder.js';

/** Every case of the suite. */
export async function allCases(): Promise<FuzzCase[]> {
  return [...loaderCases(), ...modelFolderCases()];
}
