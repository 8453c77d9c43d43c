import { nn } from '@mige/core';

/**
 * torch's nn.Sequential for layers whose activations carry no parameters: only the parameterised
 * slots are registered, under their index (`t_block.1`, `t_embedder.mlp.0` / `.2`).
 */
export class Slots extends nn.Module {
  add<M extends nn.Module>(index: number, m: M): M {
    return this.module(String(index), m);
  }
}
