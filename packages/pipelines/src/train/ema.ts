import { MigeInputError, tf } from '@mige/core';

/**
 * An exponential moving average of named parameters, as PixArt/MIGE's `ema_update(model_ema,
 * model, rate)`: ema ← decay·ema + (1 − decay)·param, the shadow starting as a copy of the
 * parameters. The shadow's state dict uses the parameter names unchanged, so `ema.safetensors`
 * loads directly as model weights (as the reference's `state_dict_ema`).
 */
export class Ema {
  readonly decay: number;
  private readonly shadow = new Map<string, tf.Variable>();
  /** The training values while EMA weights are swapped in (see `copyTo` / `restore`). */
  private backup: Map<string, tf.Tensor> | null = null;

  constructor(private readonly params: readonly [string, tf.Variable][], decay: number) {
    checkDecay(decay);
    this.decay = decay;
    for (const [name, p] of params) {
      if (this.shadow.has(name)) throw new MigeInputError(`parameter ${name} is listed twice`, 'Ema');
      this.shadow.set(name, tf.variable(tf.clone(p), false, undefined, 'float32'));
    }
  }

  /** One step: ema ← decay·ema + (1 − decay)·param (`decay` overrides the configured rate). */
  update(decay: number = this.decay): void {
    checkDecay(decay);
    if (this.backup) throw new MigeInputError('update() while EMA weights are swapped in; call restore() first', 'Ema');
    for (const [name, p] of this.params) {
      const s = this.shadow.get(name) as tf.Variable;
      tf.tidy(() => s.assign(tf.add(tf.mul(s, decay), tf.mul(p, 1 - decay))));
    }
  }

  /** The shadow weights by parameter name (live tensors owned by the Ema; do not dispose them). */
  stateDict(): Map<string, tf.Tensor> {
    return new Map(this.shadow);
  }

  /** Loads shadow weights by parameter name; every parameter must be present with its shape. */
  loadStateDict(sd: Map<string, tf.Tensor>, source = 'ema state'): void {
    for (const [name, s] of this.shadow) {
      const t = sd.get(name);
      if (!t) throw new MigeInputError(`lacks the EMA weight ${name}`, source);
      if (t.shape.join() !== s.shape.join()) {
        throw new MigeInputError(`EMA weight ${name} has shape [${t.shape}], expected [${s.shape}]`, source);
      }
    }
    const unexpected = [...sd.keys()].filter((k) => !this.shadow.has(k));
    if (unexpected.length > 0) throw new MigeInputError(`unexpected EMA weights: ${unexpected.slice(0, 5).join(', ')}`, source);
    for (const [name, s] of this.shadow) s.assign(tf.cast(sd.get(name) as tf.Tensor, 'float32'));
  }

  /**
   * Swaps the EMA weights into the parameters, keeping the training values for `restore()`
   * (for evaluation or sampling with EMA weights mid-training).
   */
  copyTo(): void {
    if (this.backup) throw new MigeInputError('EMA weights are already swapped in', 'Ema');
    this.backup = new Map(this.params.map(([name, p]) => [name, tf.clone(p)]));
    for (const [name, p] of this.params) p.assign(this.shadow.get(name) as tf.Variable);
  }

  /** Puts the training values back after `copyTo()`. */
  restore(): void {
    if (!this.backup) throw new MigeInputError('restore() without copyTo()', 'Ema');
    for (const [name, p] of this.params) {
      const b = this.backup.get(name) as tf.Tensor;
      p.assign(b);
      b.dispose();
    }
    this.backup = null;
  }

  /** Runs `fn` with the EMA weights in the parameters and restores them afterwards, even on error. */
  async withEmaWeights<T>(fn: () => T | Promise<T>): Promise<T> {
    this.copyTo();
    try {
      return await fn();
    } finally {
      this.restore();
    }
  }

  dispose(): void {
    if (this.backup) this.restore();
    for (const s of this.shadow.values()) s.dispose();
    this.shadow.clear();
  }
}

function checkDecay(decay: number): void {
  if (!(decay >= 0 && decay <= 1)) throw new MigeInputError(`decay must be in [0, 1], got ${decay}`, 'Ema');
}
