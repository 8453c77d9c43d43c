import { derivedSizes, type DitConfig } from './config.js';
import { TIMESTEP_FREQUENCY_SIZE } from './embedders.js';

/**
 * Floating-point operations of one forward pass, counted analytically as 2·m·n·k per matrix
 * product (the element-wise work is a few percent and left out). `length` is the condition
 * sequence length L the cross-attention sees.
 */
export function forwardFlops(config: Readonly<DitConfig>, batch: number, length = config.modelMaxLength): number {
  const s = derivedSizes(config);
  const d = config.hiddenSize, n = s.numPatches, l = length, p2 = config.patchSize ** 2;
  const mm = (m: number, k: number, o: number) => 2 * m * k * o;
  const embed = mm(n, s.embedChannels * p2, d) + mm(1, TIMESTEP_FREQUENCY_SIZE, d) + mm(1, d, d) + mm(l, config.captionChannels, d) + mm(l, d, d);
  const selfAttn = mm(n, d, 3 * d) + 2 * mm(n, n, d) + mm(n, d, d);
  const crossAttn = mm(n, d, d) + mm(l, d, 2 * d) + 2 * mm(n, l, d) + mm(n, d, d);
  const mlp = 2 * mm(n, d, s.mlpHidden);
  // PixArt's t_block is shared (6D once); DiT's adaLN modulation is per block.
  const modulation = config.type === 'pixart' ? mm(1, d, 6 * d) : config.depth * mm(1, d, 6 * d) + mm(1, d, 2 * d);
  const final = mm(n, d, p2 * s.outChannels);
  return batch * (embed + modulation + config.depth * (selfAttn + crossAttn + mlp) + final);
}
