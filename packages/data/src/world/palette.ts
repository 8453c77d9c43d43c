/** Named colours with fixed RGB, so a colour word in an instruction maps to exact pixels. */
export const COLORS = {
  red: [220, 40, 40],
  orange: [245, 140, 30],
  yellow: [240, 210, 40],
  green: [50, 170, 70],
  cyan: [40, 190, 200],
  blue: [40, 80, 210],
  purple: [140, 60, 180],
  pink: [240, 120, 180],
  brown: [130, 80, 40],
  black: [25, 25, 25],
} as const satisfies Record<string, readonly [number, number, number]>;

export type ColorName = keyof typeof COLORS;
export const COLOR_NAMES = Object.keys(COLORS) as ColorName[];

export type Rgb = readonly [number, number, number];

export function colorRgb(name: ColorName): Rgb {
  return COLORS[name];
}

/** Backgrounds use a pale tint of the named colour so objects of any colour stay visible. */
export function paleRgb(name: ColorName): Rgb {
  const [r, g, b] = COLORS[name];
  return [Math.round(r * 0.3 + 178.5), Math.round(g * 0.3 + 178.5), Math.round(b * 0.3 + 178.5)];
}

/** The second colour of a pattern: a darker shade of the object's own colour. */
export function shadeRgb(name: ColorName): Rgb {
  const [r, g, b] = COLORS[name];
  // Black has no darker shade, so it gets a grey one instead.
  if (name === 'black') return [110, 110, 110];
  return [Math.round(r * 0.55), Math.round(g * 0.55), Math.round(b * 0.55)];
}

/** The plain background behind a subject image (no object colour is white). */
export const SUBJECT_BACKGROUND: Rgb = [255, 255, 255];
