// Training progress output: a redrawn bar on a TTY, JSON lines otherwise, and a metrics file.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createTrainLogger, formatDuration, type LogStream } from '../../src/train/index.js';

/** A stream that records what is written; `isTTY` as given. */
function fakeStream(isTTY?: boolean): LogStream & { chunks: string[] } {
  const chunks: string[] = [];
  return { isTTY, chunks, write: (chunk: string) => chunks.push(chunk) };
}

/** A clock that advances by hand (ms). */
function fakeClock(): { now: () => number; advance: (s: number) => void } {
  let t = Date.UTC(2026, 0, 2, 3, 4, 5);
  return { now: () => t, advance: (s) => (t += s * 1000) };
}

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mige-log-'));
});
afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('createTrainLogger', () => {
  it('on a TTY redraws one line with the step, bar, percentage, values, speed and ETA', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const logger = createTrainLogger({ stream, total: 1000, now: clock.now });
    clock.advance(50);
    logger.log(120, { loss: 0.12341, lr: 1e-4 }); // 120 steps in 50 s: 2.4 step/s, 880 left: 367 s
    clock.advance(10);
    logger.log(250, { loss: 0.1 });
    logger.close();
    expect(stream.chunks).toHaveLength(3);
    expect(stream.chunks[0]).toBe('\rstep 120/1000 [==>                 ] 12% loss 0.1234 lr 1.00e-4 2.40 step/s ETA 6m07s\x1b[K');
    // 250 steps in 60 s: 4.17 step/s, 750 left: 180 s
    expect(stream.chunks[1]).toBe('\rstep 250/1000 [=====>              ] 25% loss 0.1000 4.17 step/s ETA 3m00s\x1b[K');
    expect(stream.chunks[2]).toBe('\n');
  });

  it('draws a full bar at the end and no speed before time has passed', () => {
    const stream = fakeStream();
    const clock = fakeClock();
    const logger = createTrainLogger({ stream, total: 10, mode: 'bar', now: clock.now, barWidth: 10 });
    logger.log(0, {});
    clock.advance(5);
    logger.log(10, { loss: 2 });
    expect(stream.chunks[0]).toBe('\rstep 0/10 [>         ] 0%\x1b[K');
    expect(stream.chunks[1]).toBe('\rstep 10/10 [==========] 100% loss 2.0000 2.00 step/s ETA 0s\x1b[K');
  });

  it('off a TTY writes one JSON line per log with the fields', () => {
    const stream = fakeStream(false);
    const clock = fakeClock();
    const logger = createTrainLogger({ stream, total: 100, now: clock.now, startStep: 20 });
    clock.advance(4);
    logger.log(30, { loss: 0.5, lr: 2e-5, grad_norm: 1.25 });
    clock.advance(4);
    logger.log(40, { loss: Number.NaN, lr: 2e-5, grad_norm: 0.75 });
    logger.close();
    expect(stream.chunks.every((c) => c.endsWith('\n') && !c.includes('\r'))).toBe(true);
    const records = stream.chunks.map((c) => JSON.parse(c) as Record<string, unknown>);
    expect(records[0]).toEqual({
      step: 30, total: 100, loss: 0.5, lr: 2e-5, grad_norm: 1.25, steps_per_s: 2.5, eta_s: 28, time: '2026-01-02T03:04:09.000Z',
    });
    expect(records[1]).toMatchObject({ step: 40, loss: null, grad_norm: 0.75, steps_per_s: 2.5, eta_s: 24, time: '2026-01-02T03:04:13.000Z' });
    expect(Object.keys(records[0] as object)).toEqual(['step', 'total', 'loss', 'lr', 'grad_norm', 'steps_per_s', 'eta_s', 'time']);
  });

  it('mode jsonl wins over a TTY, and every record goes to the metrics file', () => {
    const stream = fakeStream(true);
    const clock = fakeClock();
    const metricsFile = path.join(dir, 'run', 'metrics.jsonl');
    fs.mkdirSync(path.dirname(metricsFile));
    fs.writeFileSync(metricsFile, '{"step":1}\n'); // an earlier run's line: appended to, not replaced
    const logger = createTrainLogger({ stream, total: 3, mode: 'jsonl', metricsFile, now: clock.now });
    for (const step of [1, 2, 3]) {
      clock.advance(1);
      logger.log(step, { loss: step / 10 });
    }
    logger.close();
    expect(() => logger.log(4, {})).toThrow(/log\(\) after close\(\)/);
    const lines = fs.readFileSync(metricsFile, 'utf8').trimEnd().split('\n');
    expect(lines).toHaveLength(4);
    expect(lines.slice(1).map((l) => (JSON.parse(l) as { loss: number }).loss)).toEqual([0.1, 0.2, 0.3]);
    expect(lines.slice(1)).toEqual(stream.chunks.map((c) => c.trimEnd()));
  });

  it('writes the metrics file in bar mode too, and creates its folder', () => {
    const stream = fakeStream(true);
    const metricsFile = path.join(dir, 'new', 'deeper', 'metrics.jsonl');
    const logger = createTrainLogger({ stream, total: 5, metricsFile, now: fakeClock().now });
    logger.log(1, { loss: 1 });
    logger.log(2, { loss: 0.5 });
    logger.close();
    expect(stream.chunks[0]?.startsWith('\rstep 1/5')).toBe(true);
    const lines = fs.readFileSync(metricsFile, 'utf8').trimEnd().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { step: number }).step)).toEqual([1, 2]);
  });

  it('rejects a bad total', () => {
    expect(() => createTrainLogger({ stream: fakeStream(), total: 0 })).toThrow(/total must be a positive integer, got 0/);
  });

  it('formats durations', () => {
    expect([0, 45, 60, 380, 3599, 3600, 7500].map(formatDuration)).toEqual(['0s', '45s', '1m00s', '6m20s', '59m59s', '1h00m', '2h05m']);
  });
});
