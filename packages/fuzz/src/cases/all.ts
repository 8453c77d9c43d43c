import type { FuzzCase } from '../case.js';
import { loaderCases } from './index.js';
import { modelFolderCases } from './model-folder.js';
import { trainingCases } from './training.js';

/** Every case that runs in a watched child process (the HTTP cases share one server: cases/http.ts). */
export async function allCases(): Promise<FuzzCase[]> {
  return [...loaderCases(), ...modelFolderCases(), ...trainingCases()];
}
