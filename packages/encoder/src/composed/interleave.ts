import { tf, type nn } from '@mige/core';
import type { SequencePlan } from '../instruction/sequence-plan.js';

/** What turns token ids into embeddings: T5's `shared` nn.Embedding, or a lookup with the same `forward`. */
export type TokenEmbedder = Pick<nn.Embedding, 'embeddingDim' | 'forward'>;

/**
 * One row of `get_context_emb`'s output: the plan's spans as embeddings [maxLength, D]. Text
 * ids go through `shared`, image slot j takes rows of `imageTokens[j]` ([n, Q, D], already
 * projected by t5_proj), padding repeats the embedding of id 0 (`<pad>`). Built from slices and
 * concats so gradients reach t5_proj, fusion and the embedding table.
 */
export function interleaveRow(plan: SequencePlan, imageTokens: tf.Tensor3D, shared: TokenEmbedder): tf.Tensor2D {
  return tf.tidy(() => {
    const d = shared.embeddingDim;
    const pieces = plan.spans.map((span): tf.Tensor2D => {
      switch (span.kind) {
        case 'text':
          return shared.forward(tf.tensor1d(span.ids, 'int32')) as tf.Tensor2D;
        case 'image':
          return tf.reshape(tf.slice(imageTokens, [span.slot, 0, 0], [1, span.rows, d]), [span.rows, d]);
        case 'pad':
          return tf.tile(shared.forward(tf.tensor1d([0], 'int32')) as tf.Tensor2D, [span.count, 1]);
      }
    });
    return pieces.length === 1 ? (pieces[0] as tf.Tensor2D) : tf.concat(pieces, 0);
  });
}
