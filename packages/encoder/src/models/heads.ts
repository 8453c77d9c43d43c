import { nn, tf } from '@mige/core';

/** The head reshapes live in core (nn.splitHeads / nn.mergeHeads); re-exported for the layers here. */
export const { splitHeads, mergeHeads } = nn;

/** Receives named intermediates (block outputs, biases) for parity checks and debugging. */
export type TraceFn = (name: string, value: tf.Tensor) => void;
