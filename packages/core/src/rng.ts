import * as tf from '@tensorflow/tfjs-core';

/**
 * A seeded random generator (xoshiro128**, seeded through splitmix32) whose streams are the
 * same on every run, platform and backend: numbers are made in JS and only then become
 * tensors. `fork(key)` derives an independent stream, so per-item noise can come from per-item
 * seeds whatever the batch composition. Its state serialises for checkpoints.
 */
export class Rng {
  private s: Uint32Array;
  /** A second normal from Box-Muller, kept for the next call. */
  private spare: number | null = null;

  constructor(seed: number | string = 0) {
    this.s = new Uint32Array(4);
    let x = typeof seed === 'number' ? seed >>> 0 ^ Math.floor(seed / 2 ** 32) : hashString(seed);
    for (let i = 0; i < 4; i++) {
      x = (x + 0x9e3779b9) >>> 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      this.s[i] = (z ^ (z >>> 16)) >>> 0;
    }
    if (this.s.every((v) => v === 0)) this.s[0] = 1;
  }

  /** Next uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const s = this.s;
    const s0 = s[0] as number, s1 = s[1] as number, s2 = s[2] as number, s3 = s[3] as number;
    const r = Math.imul(rotl(Math.imul(s1, 5) >>> 0, 7), 9) >>> 0;
    const t = (s1 << 9) >>> 0;
    const n2 = (s2 ^ s0) >>> 0;
    const n3 = (s3 ^ s1) >>> 0;
    s[1] = (s1 ^ n2) >>> 0;
    s[0] = (s0 ^ n3) >>> 0;
    s[2] = (n2 ^ t) >>> 0;
    s[3] = rotl(n3, 11);
    return r;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Standard normal (Box-Muller). */
  normal(): number {
    if (this.spare !== null) {
      const v = this.spare;
      this.spare = null;
      return v;
    }
    let u = 0;
    while (u === 0) u = this.uniform();
    const v = this.uniform();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }

  /** Integer in [lo, hi). */
  int(lo: number, hi: number): number {
    return lo + Math.floor(this.uniform() * (hi - lo));
  }

  fillNormal(out: Float32Array, mean = 0, std = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = mean + std * this.normal();
    return out;
  }

  fillUniform(out: Float32Array, lo = 0, hi = 1): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = lo + (hi - lo) * this.uniform();
    return out;
  }

  /** A tensor of standard normals. */
  randn(shape: number[], mean = 0, std = 1): tf.Tensor {
    return tf.tensor(this.fillNormal(new Float32Array(sizeOf(shape)), mean, std), shape, 'float32');
  }

  /** A tensor of uniforms in [lo, hi). */
  rand(shape: number[], lo = 0, hi = 1): tf.Tensor {
    return tf.tensor(this.fillUniform(new Float32Array(sizeOf(shape)), lo, hi), shape, 'float32');
  }

  /** An independent stream derived from this generator's seed state and `key`. */
  fork(key: number | string): Rng {
    const child = new Rng(typeof key === 'number' ? key : hashString(key));
    for (let i = 0; i < 4; i++) child.s[i] = ((child.s[i] as number) ^ Math.imul(this.s[i] as number, 0x9e3779b1)) >>> 0;
    if (child.s.every((v) => v === 0)) child.s[0] = 1;
    return child;
  }

  /** Serialisable state (for checkpoints). */
  getState(): { s: number[]; spare: number | null } {
    return { s: Array.from(this.s), spare: this.spare };
  }

  static fromState(state: { s: number[]; spare: number | null }): Rng {
    const r = new Rng(0);
    if (state.s.length !== 4) throw new Error('Rng state must hold 4 words');
    r.s = Uint32Array.from(state.s);
    r.spare = state.spare;
    return r;
  }
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0;
  return h;
}

function sizeOf(shape: number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
