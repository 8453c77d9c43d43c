/** A small seeded generator (mulberry32): the suite's inputs are the same on every run. */
export class Random {
  private state: number;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max). */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min));
  }

  bytes(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let i = 0; i < n; i++) out[i] = this.int(0, 256);
    return out;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length)] as T;
  }
}

/** One random damage to a file: its first `cut` bytes, or these bytes overwritten. */
export type Damage = { id: string; apply: (bytes: Buffer) => Buffer };

/**
 * `truncations` cuts and `flips` sets of 1-3 overwritten bytes of a file of `size` bytes, drawn
 * from `seed`: the same damages on every run.
 */
export function damages(seed: number, size: number, truncations: number, flips: number): Damage[] {
  const random = new Random(seed);
  const out: Damage[] = [];
  for (let i = 0; i < truncations; i++) {
    const cut = random.int(0, size);
    out.push({ id: `truncated-at-${cut}`, apply: (bytes) => bytes.subarray(0, cut) });
  }
  for (let i = 0; i < flips; i++) {
    const changes = Array.from({ length: random.int(1, 4) }, () => [random.int(0, size), random.int(0, 256)] as const);
    out.push({
      id: `flipped-${changes.map(([at, v]) => `${at}=${v}`).join(',')}`,
      apply: (bytes) => {
        for (const [at, v] of changes) bytes[at] = v;
        return bytes;
      },
    });
  }
  return out;
}
