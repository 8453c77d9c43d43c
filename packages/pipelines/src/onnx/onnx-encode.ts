import { checkShapes, MigeInputError, nn, tf, type EncoderInput, type InstructionEncoding, type TokenMask, type TokenSequence } from '@mige/core';
import {
  findInstructionProblems,
  InstructionBatchError,
  interleaveRow,
  type TokenEmbedder,
  planSequence,
  validateInstruction,
  type InstructionProblem,
  type SequencePlan,
} from '@mige/encoder';
import { FfmFusion } from '@mige/fusion';
import type { MigeModel } from '../model/index.js';
import type { OnnxSessions } from './sessions.js';

/** One item's checked prompt and its sequence plan (how many of its images the sequence uses). */
export interface PlannedItem {
  input: EncoderInput;
  plan: SequencePlan;
  /** Images that appear in the plan: slots past a truncation are never computed. */
  used: number;
}

/**
 * MigeInstructionEncoder.encode with the networks in ONNX Runtime: ViT → Q-Former → FFM →
 * t5_proj for every used image of the batch in one run each, then the T5 encoder on the
 * interleaved sequence. Checking, tokenising, the sequence plan and the interleave (text ids
 * through T5's `shared` embedding) are the TF.js encoder's own functions, so both engines see
 * the same sequence. Returns y [B, maxLength, D], mask [B, maxLength] int32 and the warnings.
 */
export async function encodeInstructionsOnnx(model: MigeModel, sessions: OnnxSessions, batch: readonly EncoderInput[]): Promise<InstructionEncoding> {
  const encoder = model.encoder;
  const c = encoder.config;
  const perImage = c.qformer.numQueryTokens;
  const planned = planBatch(model, batch);
  const warnings = planned.flatMap((p, i) =>
    p.plan.truncated ? [`batch[${i}]: ${p.plan.contentLength} tokens (text + ${perImage} per image) exceed maxLength ${c.maxLength}; the tail was cut off`] : [],
  );
  const tokens = await imageTokensOnnx(model, sessions, planned);
  let inputsEmbeds: TokenSequence | undefined;
  let attentionMask: tf.Tensor2D | undefined;
  let table: tf.Tensor2D | undefined;
  try {
    const masks = new Int32Array(planned.length * c.maxLength);
    planned.forEach((p, i) => masks.set(p.plan.mask, i * c.maxLength));
    const text = await textEmbedder(sessions, planned, c.t5.dModel);
    table = text.table;
    inputsEmbeds = tf.tidy(() => tf.stack(planned.map((p, i) => interleaveRow(p.plan, tokens[i] as tf.Tensor3D, text.embedder))) as TokenSequence);
    const mask = tf.tensor2d(masks, [planned.length, c.maxLength], 'int32') as TokenMask;
    attentionMask = tf.cast(mask, 'float32');
    try {
      const { lastHiddenState } = await sessions.run('t5-encoder', { inputsEmbeds, attentionMask });
      return { y: lastHiddenState, mask, warnings };
    } catch (error) {
      mask.dispose();
      throw error;
    }
  } finally {
    tf.dispose([...tokens, ...(inputsEmbeds ? [inputsEmbeds] : []), ...(attentionMask ? [attentionMask] : []), ...(table ? [table] : [])]);
  }
}

/**
 * T5's `shared` rows of every id the batch's sequences use (0, `<pad>`, included), from one run
 * of the t5-embed graph, as the embedder interleaveRow takes: the rows are copies, so the
 * sequence is exactly the one T5's own embedding gives, without the table (131M values at XXL)
 * in TF.js. The caller disposes `table`.
 */
async function textEmbedder(sessions: OnnxSessions, planned: readonly PlannedItem[], dim: number): Promise<{ embedder: TokenEmbedder; table: tf.Tensor2D }> {
  const ids = [...new Set([0, ...planned.flatMap((p) => p.plan.spans.flatMap((s) => (s.kind === 'text' ? s.ids : [])))])];
  const row = new Map(ids.map((id, i) => [id, i]));
  const inputIds = tf.tensor2d(ids, [1, ids.length]);
  let embeddings: tf.Tensor3D;
  try {
    ({ embeddings } = await sessions.run('t5-embed', { inputIds }));
  } finally {
    inputIds.dispose();
  }
  const table = tf.reshape(embeddings, [ids.length, dim]) as tf.Tensor2D;
  embeddings.dispose();
  const forward = (x: tf.Tensor): tf.Tensor =>
    tf.tidy(() => {
      const at = Array.from(x.dataSync(), (id) => {
        const r = row.get(id);
        if (r === undefined) throw new Error(`token id ${id} was not embedded`);
        return r;
      });
      return tf.reshape(tf.gather(table, tf.tensor1d(at, 'int32')), [...x.shape, dim]);
    });
  return { embedder: { embeddingDim: dim, forward }, table };
}

/** prepareBatch + planSequence as MigeInstructionEncoder.embed does them, problems of the whole batch reported at once. */
export function planBatch(model: MigeModel, batch: readonly EncoderInput[]): PlannedItem[] {
  const c = model.encoder.config;
  if (!Array.isArray(batch) || batch.length === 0) throw new MigeInputError('expected a non-empty array of instructions', 'batch');
  const problems: InstructionProblem[] = [];
  const planned: PlannedItem[] = [];
  batch.forEach((input, index) => {
    try {
      checkShapes('item', { images: [input.images, ['n', 3, c.vision.imgSize, c.vision.imgSize]], latents: [input.latents, ['n', 4, 'h', 'w']] });
    } catch (e) {
      if (e instanceof MigeInputError) return void problems.push({ index, message: e.message });
      throw e;
    }
    const n = input.images.shape[0];
    const instruction = { text: input.text, images: Array.from({ length: n }, (_, i) => i) };
    const opts = { task: input.task ?? 'raw', maxImages: c.maxImages };
    const found = findInstructionProblems([instruction], opts);
    if (found.length > 0) return void problems.push(...found.map((p) => ({ index, message: p.message })));
    const prepared = validateInstruction(instruction, opts, `batch[${index}]`);
    const plan = planSequence(model.tokenizer.encodeSegments(prepared.segments), c.qformer.numQueryTokens, c.maxLength);
    planned.push({ input, plan, used: plan.spans.filter((s) => s.kind === 'image').length });
  });
  if (problems.length > 0) throw new InstructionBatchError(problems);
  return planned;
}

/** Per item [used, Q, D_t5] (empty for items without images): each network runs once on every used image of the batch. */
async function imageTokensOnnx(model: MigeModel, sessions: OnnxSessions, items: readonly PlannedItem[]): Promise<tf.Tensor3D[]> {
  const c = model.encoder.config;
  const empty = (): tf.Tensor3D => tf.zeros([0, c.qformer.numQueryTokens, c.t5.dModel]);
  const withImages = items.filter((it) => it.used > 0);
  if (withImages.length === 0) return items.map(empty);
  const owned: tf.Tensor[] = [];
  const own = <T extends tf.Tensor>(t: T): T => (owned.push(t), t);
  try {
    const images = own(tf.tidy(() => tf.concat(withImages.map((it) => tf.slice(it.input.images, 0, it.used)), 0) as tf.Tensor4D));
    const latents = own(tf.tidy(() => tf.concat(withImages.map((it) => tf.slice(it.input.latents, 0, it.used)), 0) as tf.Tensor4D));
    const { imageEmbeds } = await sessions.run('vit', { images });
    own(imageEmbeds);
    const { queryOutput } = await sessions.run('qformer', { imageEmbeds });
    own(queryOutput);
    // NoFusion passes the Q-Former tokens unchanged; FFM fuses them with the latents.
    const fused = model.fusion instanceof FfmFusion ? own((await sessions.run('ffm', { queryTokens: queryOutput, latents })).fused) : queryOutput;
    const { projected } = await sessions.run('t5-proj', { queryOutput: fused });
    own(projected);
    const parts = nn.splitParts(projected, withImages.map((it) => it.used), 0) as tf.Tensor3D[];
    let next = 0;
    return items.map((it) => (it.used > 0 ? (parts[next++] as tf.Tensor3D) : empty()));
  } finally {
    tf.dispose(owned);
  }
}
