import { DEFAULT_REQUEST_LIMITS, MAX_STEPS } from '@mige/pipelines';
import type { PlaygroundLimits } from '../api/api-types.js';

const MIB = 1024 * 1024;

/** Generous for a local tool, small enough that one request cannot exhaust memory. */
export const DEFAULT_LIMITS: Readonly<PlaygroundLimits> = Object.freeze({
  ...DEFAULT_REQUEST_LIMITS,
  maxBodyBytes: 32 * MIB,
  maxQueue: 16,
  // Images are kept at the model's working size (a 512 px model: under 1 MiB an image).
  maxQueueBytes: 256 * MIB,
});

/** Defaults overridden by `overrides`; every limit must be a positive integer. */
export function resolveLimits(overrides: Partial<PlaygroundLimits> = {}): PlaygroundLimits {
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [key, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 1) throw new Error(`limit ${key} must be a positive integer, got ${String(value)}`);
  }
  if (limits.maxSteps > MAX_STEPS) throw new Error(`limit maxSteps must be at most ${MAX_STEPS} (the samplers' limit), got ${limits.maxSteps}`);
  return limits;
}
