import { MigeInputError, tf, type BackboneInput, type Latents, type TokenMask, type TokenSequence } from '@mige/core';
import { DiagonalGaussianDistribution } from '@mige/vae';
import type { FlowEngine } from '../flows/engine.js';
import type { MigeModel } from '../model/index.js';
import { hasComponent } from './graphs.js';
import { encodeInstructionsOnnx } from './onnx-encode.js';
import { OnnxSessions, type OnnxSessionsOptions } from './sessions.js';
import { ONNX_COMPONENTS, type OnnxComponent } from './components.js';

/** A FlowEngine over ONNX Runtime sessions; `release()` frees the sessions it opened. */
export interface OnnxFlowEngine extends FlowEngine {
  readonly name: 'onnx';
  readonly sessions: OnnxSessions;
  release(): Promise<void>;
}

/** The components a model's flows need: all but ffm unless its fusion is FFM. */
export function flowComponents(model: MigeModel): OnnxComponent[] {
  return ONNX_COMPONENTS.filter((c) => hasComponent(model, c));
}

/**
 * Runs every network of the flows in ONNX Runtime: the VAE encoder and decoder, the
 * instruction encoder's ViT, Q-Former, FFM, t5_proj and T5, and the DiT on the k·B guidance
 * rows of each step. The model supplies what stays in TF.js: the tokenizer, T5's `shared`
 * embedding for the interleave, the DiT's null condition and the config. The sessions must
 * be an export of this model (same config; the weights are not compared) with a dynamic batch.
 */
export function onnxEngine(model: MigeModel, sessions: OnnxSessions): OnnxFlowEngine {
  checkSessions(model, sessions);
  return {
    name: 'onnx',
    sessions,
    async vaeEncode(images) {
      const { moments } = await sessions.run('vae-encoder', { images });
      try {
        return new DiagonalGaussianDistribution(moments);
      } finally {
        moments.dispose();
      }
    },
    encode: (inputs) => encodeInstructionsOnnx(model, sessions, inputs),
    denoiseStep(input: BackboneInput): Promise<Latents> {
      // Called inside the sampler's tidy: clones (sharing the data) kept past it, read by ORT later.
      const kept = tf.tidy(() => {
        const { y, mask } = trimCaptionPadding(input.y, input.mask);
        return { x: tf.keep(tf.clone(input.x)), cond: tf.keep(tf.clone(input.cond)), t: tf.keep(tf.clone(input.t)), y: tf.keep(tf.clone(y)), mask: tf.keep(tf.clone(mask)) };
      });
      return (async () => {
        try {
          const { eps, variance } = await sessions.run('dit', kept);
          variance?.dispose();
          return eps;
        } finally {
          tf.dispose([kept.x, kept.cond, kept.t, kept.y, kept.mask]);
        }
      })();
    },
    async vaeDecode(latents) {
      const { images } = await sessions.run('vae-decoder', { latents });
      return images;
    },
    release: () => sessions.release(),
  };
}

/**
 * How many caption tokens the DiT needs: one past the last key any row attends to (mask [B, L],
 * read back: B·L numbers). Every row keeps at least one valid key, else nothing is cut (a row
 * of padding only attends to all L keys alike).
 */
export function captionLength(mask: TokenMask): number {
  const [b, l] = mask.shape;
  const m = mask.dataSync();
  let keep = 0;
  for (let r = 0; r < b; r++) {
    let last = -1;
    for (let i = 0; i < l; i++) if ((m[r * l + i] as number) > 0) last = i;
    if (last < 0) return l;
    keep = Math.max(keep, last + 1);
  }
  return keep;
}

/**
 * y [B, L, C] and mask [B, L] without the padding every row shares (`captionLength`). A masked
 * key gets exactly zero attention weight (its score is −1e9 below the rest), so the DiT's output
 * is the same to float rounding for less work: instructions are padded to 256 tokens and an
 * edit's is typically 40-60 of them. PixArt's reference drops the padded keys the same way.
 */
export function trimCaptionPadding(y: TokenSequence, mask: TokenMask): { y: TokenSequence; mask: TokenMask } {
  const length = captionLength(mask);
  if (length === mask.shape[1]) return { y, mask };
  return { y: tf.slice(y, [0, 0, 0], [-1, length, -1]), mask: tf.slice(mask, [0, 0], [-1, length]) };
}

/** Opens `dir` (an exportModel folder) for `model`'s flows. */
export async function openOnnxEngine(model: MigeModel, dir: string, options: Omit<OnnxSessionsOptions, 'components'> = {}): Promise<OnnxFlowEngine> {
  const sessions = await OnnxSessions.open(dir, { ...options, components: flowComponents(model) });
  try {
    return onnxEngine(model, sessions);
  } catch (error) {
    await sessions.release();
    throw error;
  }
}

function checkSessions(model: MigeModel, sessions: OnnxSessions): void {
  const where = `ONNX export ${sessions.dir}`;
  const m = sessions.manifest;
  if (canonical(m.config) !== canonical(model.config)) {
    throw new MigeInputError(`was exported from model config '${m.config.name}', which differs from the model's ('${model.config.name}'); export this model again`, where);
  }
  if (!m.dynamicBatch) throw new MigeInputError('has a fixed batch; the flows need an export with dynamicBatch (the default)', where);
  if (m.t5MaxLength < model.encoder.maxLength) throw new MigeInputError(`takes T5 inputs of at most ${m.t5MaxLength} tokens; the encoder pads to ${model.encoder.maxLength}`, where);
  for (const c of flowComponents(model)) {
    if (!sessions.has(c)) throw new MigeInputError(`component '${c}' is not open (the flows need ${flowComponents(model).join(', ')})`, where);
  }
}

/** JSON with sorted keys: configs compare by content, whatever order their files list keys in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
