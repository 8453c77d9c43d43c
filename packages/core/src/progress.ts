/**
 * Progress reporting and cancellation shared by every long operation (sampling, training,
 * encoding a dataset). Operations take `{ onProgress, signal }` and call `checkAbort` between
 * steps, so cancellation takes effect within one step.
 */

export interface ProgressEvent {
  /** What is running, such as 'sample' or 'train'. */
  stage: string;
  /** Steps done so far (1-based after the first step). */
  step: number;
  total: number;
  elapsedMs: number;
  /** Estimated time left, from the mean step time so far. */
  etaMs: number;
  /** Steps per second so far. */
  rate: number;
  /** Stage-specific values, such as the loss. */
  info?: Record<string, number>;
}

export type ProgressCallback = (e: ProgressEvent) => void;

export interface LongOperationOptions {
  onProgress?: ProgressCallback;
  signal?: AbortSignal;
}

/** Thrown when an AbortSignal stops an operation. */
export class MigeAbortError extends Error {
  override readonly name = 'AbortError';
  constructor(readonly stage: string, readonly step: number) {
    super(`${stage} cancelled at step ${step}`);
  }
}

/** Throws MigeAbortError if `signal` has been aborted. */
export function checkAbort(signal: AbortSignal | undefined, stage: string, step: number): void {
  if (signal?.aborted) throw new MigeAbortError(stage, step);
}

/** Counts steps and reports rate and ETA through `onProgress`. */
export class ProgressTracker {
  private readonly start: number;
  private done = 0;

  constructor(
    readonly stage: string,
    readonly total: number,
    private readonly options: LongOperationOptions = {},
    private readonly now: () => number = () => performance.now(),
  ) {
    this.start = now();
  }

  /** Checks for cancellation before a step. */
  check(): void {
    checkAbort(this.options.signal, this.stage, this.done);
  }

  /** Records a finished step and reports it. */
  step(info?: Record<string, number>): ProgressEvent {
    this.done++;
    const elapsedMs = this.now() - this.start;
    const per = elapsedMs / this.done;
    const event: ProgressEvent = {
      stage: this.stage,
      step: this.done,
      total: this.total,
      elapsedMs,
      etaMs: per * Math.max(0, this.total - this.done),
      rate: elapsedMs > 0 ? (1000 * this.done) / elapsedMs : 0,
      ...(info ? { info } : {}),
    };
    this.options.onProgress?.(event);
    return event;
  }
}
