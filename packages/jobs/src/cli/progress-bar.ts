const WIDTH = 30;

/**
 * `[#########-----] 12/30 done, 1 failed, 0.8 jobs/s, ETA 22s` on stderr: redrawn in place on a
 * terminal, one line per tenth of the work otherwise (logs).
 */
export class ProgressBar {
  private done: number;
  private failed = 0;
  private readonly started = performance.now();
  private readonly startCount: number;
  private lastTenth = -1;

  constructor(
    private readonly out: NodeJS.WritableStream & { isTTY?: boolean },
    private readonly total: number,
    alreadyDone: number,
  ) {
    this.done = alreadyDone;
    this.startCount = alreadyDone;
    if (alreadyDone > 0) this.out.write(`mige batch: ${alreadyDone} of ${total} already done\n`);
    this.draw();
  }

  tick(kind: 'done' | 'failed'): void {
    if (kind === 'done') this.done++;
    else this.failed++;
    this.draw();
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
    else if (this.lastTenth < 10) this.out.write(`${this.line()}\n`);
  }

  private line(): string {
    const finished = this.done + this.failed;
    const filled = Math.round((finished / this.total) * WIDTH);
    const seconds = (performance.now() - this.started) / 1000;
    const rate = (finished - this.startCount) / Math.max(seconds, 1e-3);
    const eta = rate > 0 ? `, ETA ${Math.ceil((this.total - finished) / rate)}s` : '';
    return `[${'#'.repeat(filled)}${'-'.repeat(WIDTH - filled)}] ${this.done}/${this.total} done${this.failed ? `, ${this.failed} failed` : ''}, ${rate.toFixed(2)} jobs/s${eta}`;
  }

  private draw(): void {
    if (this.out.isTTY) {
      this.out.write(`\r${this.line()}`);
      return;
    }
    const tenth = Math.floor(((this.done + this.failed) / this.total) * 10);
    if (tenth === this.lastTenth) return;
    this.lastTenth = tenth;
    this.out.write(`${this.line()}\n`);
  }
}
