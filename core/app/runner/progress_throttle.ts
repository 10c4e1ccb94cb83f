/**
 * What reaches the event stream of a stage's progress: at most one event per interval, never
 * backwards, the first and the finish at once, and the latest report always delivered in the end.
 * The trailing delivery matters: a step reported just after another ("loading the model", 10 ms
 * after "starting the engine") must not be lost, or the last word before a long wait is the wrong one.
 */
export class ProgressThrottle {
  private lastAt = -Infinity;
  private highest = -1;
  private lastMsg: string | null = null;
  private pending: { fraction: number; msg: string } | null = null;
  private timer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly emit: (fraction: number, msg: string) => void,
    private readonly intervalMs: number,
  ) {}

  report(fraction: number, msg: string): void {
    if (this.closed) return;
    const clamped = Math.min(1, Math.max(0, this.highest, fraction));
    if (clamped === this.highest && msg === this.lastMsg) return;
    const finished = clamped === 1 && this.highest < 1;
    if (finished || Date.now() - this.lastAt >= this.intervalMs) {
      this.send(clamped, msg);
      return;
    }
    this.pending = { fraction: clamped, msg };
    this.timer ??= setTimeout(() => this.flush(), this.lastAt + this.intervalMs - Date.now());
  }

  /** The stage has ended: nothing more is sent, the pending report included. */
  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
  }

  private flush(): void {
    this.timer = null;
    const pending = this.pending;
    if (pending) this.send(pending.fraction, pending.msg);
  }

  private send(fraction: number, msg: string): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.pending = null;
    this.lastAt = Date.now();
    this.highest = fraction;
    this.lastMsg = msg;
    this.emit(Math.round(fraction * 1000) / 1000, msg);
  }
}
