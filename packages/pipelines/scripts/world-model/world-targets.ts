/**
 * What the pre-training stages (train-vit.ts, train-qformer.ts) read off a world image: the
 * background colour (or the subject cards' white), which shapes, colours and patterns appear,
 * how many objects, and which (shape, colour) pairs, plus the images they learn from.
 */
import { Rng, tf, type RgbImage } from '@mige/core';
import { COLOR_NAMES, generateExample, PATTERN_NAMES, SHAPE_NAMES, type WorldObject } from '@mige/data';

const C = COLOR_NAMES.length, SH = SHAPE_NAMES.length, P = PATTERN_NAMES.length;
/** Logits of the attribute head: background (C + white), shapes, colours, patterns, count 1..4. */
export const ATTRIBUTE_LOGITS = C + 1 + SH + C + P + 4;
/** Logits of the binding head: one per (shape, colour) pair. */
export const PAIR_LOGITS = SH * C;

export interface Target { bg: number; shapes: number[]; colors: number[]; patterns: number[]; pairs: number[]; count: number }

export function targetOf(objects: readonly Pick<WorldObject, 'shape' | 'color' | 'pattern'>[], bg: number): Target {
  const hot = (n: number, idx: number[]) => Array.from({ length: n }, (_, i) => (idx.includes(i) ? 1 : 0));
  return {
    bg,
    shapes: hot(SH, objects.map((o) => SHAPE_NAMES.indexOf(o.shape))),
    colors: hot(C, objects.map((o) => COLOR_NAMES.indexOf(o.color))),
    patterns: hot(P, objects.map((o) => PATTERN_NAMES.indexOf(o.pattern))),
    pairs: hot(SH * C, objects.map((o) => SHAPE_NAMES.indexOf(o.shape) * C + COLOR_NAMES.indexOf(o.color))),
    count: Math.min(4, Math.max(1, objects.length)) - 1,
  };
}

/** A random image of a random example (its scene, source or a subject card), with its targets. */
export function sampleImage(dataSeed: number, size: number, rng: Rng): { image: RgbImage; target: Target } {
  const ex = generateExample(dataSeed, rng.int(0, 1_000_000), { size });
  const choices: { image: RgbImage; target: Target }[] = [{ image: ex.target, target: targetOf(ex.annotations.target.objects, COLOR_NAMES.indexOf(ex.annotations.target.background.color)) }];
  ex.entities.forEach((img, k) => {
    const subject = ex.annotations.subjects[k];
    if (subject) choices.push({ image: img, target: targetOf([subject], C) });
    else if (ex.annotations.source) choices.push({ image: img, target: targetOf(ex.annotations.source.objects, COLOR_NAMES.indexOf(ex.annotations.source.background.color)) });
  });
  return choices[rng.int(0, choices.length)] as { image: RgbImage; target: Target };
}

/** The attribute loss (softmax CE on background and count, sigmoid CE on the rest) and the background accuracy. */
export function attributeLoss(logits: tf.Tensor2D, targets: readonly Target[]): { loss: tf.Scalar; bgAccuracy: tf.Scalar } {
  return tf.tidy(() => {
    const bg = tf.oneHot(tf.tensor1d(targets.map((t) => t.bg), 'int32'), C + 1);
    const count = tf.oneHot(tf.tensor1d(targets.map((t) => t.count), 'int32'), 4);
    const multi = tf.tensor2d(targets.map((t) => [...t.shapes, ...t.colors, ...t.patterns]));
    const [lbg, lmulti, lcount] = tf.split(logits, [C + 1, SH + C + P, 4], 1) as [tf.Tensor2D, tf.Tensor2D, tf.Tensor2D];
    const loss = tf.addN([tf.losses.softmaxCrossEntropy(bg, lbg), tf.losses.sigmoidCrossEntropy(multi, lmulti), tf.losses.softmaxCrossEntropy(count, lcount)]) as tf.Scalar;
    return { loss, bgAccuracy: tf.mean(tf.cast(tf.equal(tf.argMax(lbg, 1), tf.argMax(bg, 1)), 'float32')) as tf.Scalar };
  });
}
