import { MigeInputError, nn, tf, type Latents } from '@mige/core';
import type { AsyncNoiseModel, NoiseModel } from './sampler.js';

/**
 * MIGE's classifier-free guidance (`model_wrapper(guidance_type='classifier-free',
 * unconditional_condition=...)`): the network runs once per step on k copies of x, one per
 * branch, and the branch outputs are combined.
 */
export type GuidanceType = 'subject' | 'edit' | 'uncond';

export interface GuidanceScales {
  /** s_y, instruction scale (reference cfg_scale_y, default 5). */
  y: number;
  /** s_s, source scale (reference cfg_scale_s), edit only. */
  s: number;
}

export interface GuidanceBranch {
  /** The branch uses the null instruction (caption) embedding. */
  nullY: boolean;
  /** The branch replaces the source image latents with zeros. */
  zeroSource: boolean;
}

/**
 * Each guidance's branches in the reference's batch order. subject: [(null y, source),
 * (y, source)]; edit: [(null y, zero source), (null y, source), (y, source)]; uncond: [(y, source)].
 */
export const GUIDANCE_BRANCHES: Readonly<Record<GuidanceType, readonly GuidanceBranch[]>> = Object.freeze({
  subject: Object.freeze([{ nullY: true, zeroSource: false }, { nullY: false, zeroSource: false }]),
  edit: Object.freeze([
    { nullY: true, zeroSource: true },
    { nullY: true, zeroSource: false },
    { nullY: false, zeroSource: false },
  ]),
  uncond: Object.freeze([{ nullY: false, zeroSource: false }]),
});

function checkType(type: GuidanceType, where: string): readonly GuidanceBranch[] {
  const branches = (GUIDANCE_BRANCHES as Record<string, readonly GuidanceBranch[] | undefined>)[type];
  if (!branches) throw new MigeInputError(`unknown guidance type ${JSON.stringify(type)}; expected 'subject', 'edit' or 'uncond'`, `${where}.type`);
  return branches;
}

function checkScales(type: GuidanceType, scales: GuidanceScales, where: string): void {
  if (type === 'uncond') return;
  if (typeof scales?.y !== 'number' || !Number.isFinite(scales.y)) throw new MigeInputError(`scale y must be a finite number, got ${String(scales?.y)}`, `${where}.scales.y`);
  if (type === 'edit' && (typeof scales.s !== 'number' || !Number.isFinite(scales.s))) {
    throw new MigeInputError(`scale s must be a finite number, got ${String(scales.s)}`, `${where}.scales.s`);
  }
}

/**
 * eps [k·B, C, h, w] in branch-major order (branch 0 rows first) → guided ε [B, C, h, w]:
 * subject e0 + s_y·(e1 − e0); edit e0 + s_s·(e1 − e0) + s_y·(e2 − e1); uncond e0 (a copy).
 * Operations run in the reference's order, so float32 results match it bit for bit.
 */
export function combineGuidance(type: GuidanceType, eps: Latents, scales: GuidanceScales): Latents {
  const where = 'combineGuidance';
  const k = checkType(type, where).length;
  checkScales(type, scales, where);
  if (eps.rank !== 4 || eps.shape[0] % k !== 0) {
    throw new MigeInputError(`eps must be [${k}·B, C, h, w] for '${type}' guidance, got [${eps.shape.join(', ')}]`, `${where}.eps`);
  }
  return tf.tidy(() => {
    const e = nn.splitParts(eps, k, 0);
    const [e0, e1, e2] = e as [Latents, Latents, Latents];
    if (type === 'uncond') return tf.clone(e0);
    if (type === 'subject') return tf.add(e0, tf.mul(tf.sub(e1, e0), scales.y));
    return tf.add(tf.add(e0, tf.mul(tf.sub(e1, e0), scales.s)), tf.mul(tf.sub(e2, e1), scales.y));
  });
}

/**
 * Wraps a batched network into a NoiseModel. The network is called ONCE per step on all k
 * branches as one batch (x tiled k times, branch-major, so rows [j·B, (j+1)·B) are branch j of
 * GUIDANCE_BRANCHES[type]); it must return ε [k·B, C, h, w], or a promise of it (then the
 * NoiseModel is async too; the tiled x stays alive until the promise settles, and the network
 * owns everything else it creates after its first await). For 'uncond' it sees x itself.
 */
export function guidedNoiseModel(type: GuidanceType, scales: GuidanceScales, batched: (x: Latents, modelTime: number) => Latents): NoiseModel;
export function guidedNoiseModel(type: GuidanceType, scales: GuidanceScales, batched: (x: Latents, modelTime: number) => Latents | Promise<Latents>): AsyncNoiseModel;
export function guidedNoiseModel(
  type: GuidanceType,
  scales: GuidanceScales,
  batched: (x: Latents /* [k·B, C, h, w] */, modelTime: number) => Latents | Promise<Latents> /* [k·B, C, h, w] */,
): AsyncNoiseModel {
  const where = 'guidedNoiseModel';
  const k = checkType(type, where).length;
  checkScales(type, scales, where);
  const guide = (out: Latents, x: Latents): Latents => {
    const expected = [k * x.shape[0], ...x.shape.slice(1)];
    if (!(out instanceof tf.Tensor) || out.shape.join() !== expected.join()) {
      const got = out instanceof tf.Tensor ? `[${out.shape.join(', ')}]` : typeof out;
      throw new MigeInputError(`the network returned ${got}, expected [${expected.join(', ')}] (${k} guidance branches)`, where);
    }
    // For 'uncond' the network output is ε itself; returning it from tidy keeps it alive.
    return k === 1 ? out : combineGuidance(type, out, scales);
  };
  return (x, modelTime) => {
    let pending: Promise<Latents> | undefined;
    let xIn: Latents | undefined;
    const eps = tf.tidy(() => {
      xIn = k === 1 ? x : (tf.concat(new Array<Latents>(k).fill(x), 0) as Latents);
      const out = batched(xIn, modelTime);
      if (!(out instanceof Promise)) return guide(out, x);
      // The network reads xIn after this scope ends.
      if (k > 1) tf.keep(xIn);
      pending = out;
      return undefined;
    });
    if (eps) return eps;
    return (async () => {
      let out: Latents | undefined;
      try {
        out = await (pending as Promise<Latents>);
        const net = out;
        return tf.tidy(() => guide(net, x));
      } finally {
        if (k > 1) xIn?.dispose();
        // 'uncond' returns the network's own tensor; otherwise the combined ε is new.
        if (k > 1 && out instanceof tf.Tensor) out.dispose();
      }
    })();
  };
}
