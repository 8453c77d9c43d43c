import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { MigeInputError } from '@mige/core';
import type { MigeModel } from '../model/index.js';
import { ONNX_MANIFEST_FILE } from './manifest.js';
import { openOnnxEngine, type OnnxFlowEngine } from './onnx-engine.js';
import type { OnnxSessionsOptions } from './sessions.js';

/**
 * A MIGE.js model folder may hold its ONNX export in this subfolder (`mige export --model <dir>
 * --out <dir>/onnx`). When it does, the CLI runs the flows on ONNX Runtime unless told
 * `--engine tfjs`.
 */
export const MODEL_ONNX_SUBFOLDER = 'onnx';

/** `<modelDir>/onnx` when it holds a complete export (its manifest is written last), else undefined. */
export function modelOnnxDir(modelDir: string): string | undefined {
  if (!existsSync(modelDir) || !statSync(modelDir).isDirectory()) return undefined;
  const dir = join(modelDir, MODEL_ONNX_SUBFOLDER);
  return existsSync(join(dir, ONNX_MANIFEST_FILE)) ? dir : undefined;
}

interface Attached {
  dir: string;
  options: Omit<OnnxSessionsOptions, 'components'>;
  engine?: Promise<OnnxFlowEngine>;
}

const attached = new WeakMap<MigeModel, Attached>();

/**
 * Gives `model` an ONNX export to run its flows on: from then on the flows' default engine is
 * 'onnx' (sessions opened on first use, shared by later calls). Replaces (and releases) an
 * earlier attachment.
 */
export async function attachOnnx(model: MigeModel, dir: string, options: Omit<OnnxSessionsOptions, 'components'> = {}): Promise<void> {
  if (!existsSync(join(dir, ONNX_MANIFEST_FILE))) throw new MigeInputError(`no ${ONNX_MANIFEST_FILE}: not an exportModel folder`, dir);
  await detachOnnx(model);
  attached.set(model, { dir, options });
}

/** The ONNX folder attached to `model`, if any. */
export function attachedOnnxDir(model: MigeModel): string | undefined {
  return attached.get(model)?.dir;
}

/** The engine over the attached folder (opened once); a MigeInputError when none is attached. */
export function attachedOnnxEngine(model: MigeModel): Promise<OnnxFlowEngine> {
  const a = attached.get(model);
  if (!a) {
    throw new MigeInputError(
      "engine 'onnx' needs the model's ONNX export: attachOnnx(model, dir), load a model folder with an onnx/ subfolder, or pass an engine from openOnnxEngine(model, dir)",
      'FlowOptions.engine',
    );
  }
  if (!a.engine) {
    const opening = openOnnxEngine(model, a.dir, a.options);
    a.engine = opening;
    // A failed open is not cached: the next call tries again.
    opening.catch(() => {
      if (a.engine === opening) a.engine = undefined;
    });
  }
  return a.engine;
}

/** Releases the attached engine's sessions and forgets the folder. */
export async function detachOnnx(model: MigeModel): Promise<void> {
  const a = attached.get(model);
  attached.delete(model);
  if (a?.engine) await (await a.engine.catch(() => undefined))?.release();
}
