/**
 * Live progress bars on a terminal: one bar per task stage, drawn from the runner's events as they
 * are written (cli-progress). Off a terminal, one line per stage start and end instead, so logs stay readable.
 */
import cliProgress from "cli-progress";
import type { SophiaEvent } from "../task/model/schema.js";

export interface ProgressView {
  onEvent(event: SophiaEvent): void;
  /** A message line that must not tear the bars. */
  log(line: string): void;
  stop(): void;
}

export function createProgressView(enabled: boolean, stream: NodeJS.WriteStream = process.stderr): ProgressView {
  if (!enabled) return new QuietView(stream);
  return stream.isTTY ? new BarView(stream) : new LineView(stream);
}

class BarView implements ProgressView {
  private readonly bars = new Map<string, cliProgress.SingleBar>();
  private readonly multibar: cliProgress.MultiBar;

  constructor(stream: NodeJS.WriteStream) {
    this.multibar = new cliProgress.MultiBar(
      {
        stream,
        format: "{label} |{bar}| {percentage}% {msg}",
        hideCursor: true,
        clearOnComplete: false,
        stopOnComplete: false,
        barsize: 30,
      },
      cliProgress.Presets.shades_classic,
    );
  }

  onEvent(event: SophiaEvent): void {
    const key = (stage: string) => `${event.task_id}/${stage}`;
    switch (event.type) {
      case "stage.started":
        this.bars.set(key(event.payload.stage), this.multibar.create(1000, 0, { label: key(event.payload.stage).padEnd(28), msg: "" }));
        break;
      case "stage.progress":
        this.bars.get(key(event.payload.stage))?.update(Math.round(event.payload.progress * 1000), { msg: event.payload.msg.slice(0, 60) });
        break;
      case "stage.completed":
        this.bars.get(key(event.payload.stage))?.update(1000, { msg: `done in ${event.payload.duration_sec.toFixed(1)} s` });
        break;
      case "stage.aborted":
        if (event.payload.stage) this.bars.get(key(event.payload.stage))?.update({ msg: event.payload.reason });
        break;
      case "task.failed":
        this.multibar.log(`${event.task_id}: failed: ${event.payload.error}\n`);
        break;
      default:
        break;
    }
  }

  log(line: string): void {
    this.multibar.log(`${line}\n`);
  }

  stop(): void {
    // MultiBar.stop() renders the bars but not the pending log lines; a last redraw flushes them.
    this.multibar.update();
    this.multibar.stop();
  }
}

class QuietView implements ProgressView {
  constructor(protected readonly stream: NodeJS.WriteStream) {}

  onEvent(_event: SophiaEvent): void {}

  log(line: string): void {
    this.stream.write(`${line}\n`);
  }

  stop(): void {}
}

class LineView extends QuietView {
  override onEvent(event: SophiaEvent): void {
    if (event.type === "stage.started") this.log(`${event.task_id}: ${event.payload.stage} started`);
    if (event.type === "stage.completed") this.log(`${event.task_id}: ${event.payload.stage} done in ${event.payload.duration_sec.toFixed(1)} s`);
  }
}
