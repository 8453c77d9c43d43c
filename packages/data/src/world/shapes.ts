/** Shapes as point-in-shape tests in unit coordinates: u, v in [-1, 1], v pointing down. */
export const SHAPE_NAMES = ['circle', 'square', 'triangle', 'star', 'heart', 'ring', 'diamond', 'cross'] as const;
export type ShapeName = (typeof SHAPE_NAMES)[number];

export const PATTERN_NAMES = ['solid', 'stripes', 'dots', 'checks'] as const;
export type PatternName = (typeof PATTERN_NAMES)[number];

// A five-pointed star as a polygon, computed once.
const STAR: number[] = [];
for (let i = 0; i < 10; i++) {
  const a = -Math.PI / 2 + (i * Math.PI) / 5;
  const r = i % 2 === 0 ? 1 : 0.42;
  STAR.push(r * Math.cos(a), r * Math.sin(a) + 0.08);
}

function inPolygon(u: number, v: number, pts: readonly number[]): boolean {
  let inside = false;
  const n = pts.length / 2;
  for (let i = 0, j = n - 1; i < n; j = i++) {
    const xi = pts[2 * i] as number, yi = pts[2 * i + 1] as number;
    const xj = pts[2 * j] as number, yj = pts[2 * j + 1] as number;
    if (yi > v !== yj > v && u < ((xj - xi) * (v - yi)) / (yj - yi) + xi) inside = !inside;
  }
  return inside;
}

export function insideShape(shape: ShapeName, u: number, v: number): boolean {
  switch (shape) {
    case 'circle':
      return u * u + v * v <= 1;
    case 'square':
      return Math.abs(u) <= 0.85 && Math.abs(v) <= 0.85;
    case 'triangle':
      // Apex at the top, base at the bottom.
      return v <= 0.85 && v >= -0.95 && Math.abs(u) <= ((v + 0.95) / 1.8) * 0.98;
    case 'star':
      return inPolygon(u, v, STAR);
    case 'heart': {
      // The classic implicit heart curve, scaled into the unit box (y up in the formula).
      const x = u * 1.15;
      const y = -v * 1.15 + 0.1;
      const a = x * x + y * y - 1;
      return a * a * a - x * x * y * y * y <= 0;
    }
    case 'ring': {
      const r2 = u * u + v * v;
      return r2 <= 1 && r2 >= 0.3;
    }
    case 'diamond':
      return Math.abs(u) + Math.abs(v) <= 1;
    case 'cross':
      return (Math.abs(u) <= 0.3 && Math.abs(v) <= 0.9) || (Math.abs(v) <= 0.3 && Math.abs(u) <= 0.9);
  }
}

/**
 * Whether the pattern's second colour applies at pixel (i, j) of an object of `size` px.
 * Coordinates are object-relative so the object looks the same wherever it is drawn.
 */
export function patternOn(pattern: PatternName, i: number, j: number, size: number): boolean {
  const p = Math.max(2, Math.round(size / 6));
  switch (pattern) {
    case 'solid':
      return false;
    case 'stripes':
      return Math.floor((i + j) / p) % 2 === 1;
    case 'dots': {
      const ci = (i % (2 * p)) - p + 0.5, cj = (j % (2 * p)) - p + 0.5;
      return ci * ci + cj * cj <= (p * 0.6) ** 2;
    }
    case 'checks':
      return (Math.floor(i / p) + Math.floor(j / p)) % 2 === 1;
  }
}
