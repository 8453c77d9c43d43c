/** The synthetic world: procedural scenes and MIGE tasks with exact ground truth. */
export { COLORS, COLOR_NAMES, colorRgb, paleRgb, shadeRgb, SUBJECT_BACKGROUND, type ColorName, type Rgb } from './palette.js';
export { SHAPE_NAMES, PATTERN_NAMES, insideShape, patternOn, type ShapeName, type PatternName } from './shapes.js';
export { randomScene, regionName, PLACEMENT_TRIES } from './scene.js';
export { renderScene, renderSubject, drawObject, annotateScene, maskToRle, rleToMask, type RenderedScene } from './raster.js';
export { TEMPLATES, describeObject } from './templates.js';
export { exampleTask, generateExample, streamExamples, type ExampleOptions, type StreamOptions } from './generate.js';
export { writeDataset, type WorldRecord, type WriteResult } from './write.js';
export * from './types.js';
