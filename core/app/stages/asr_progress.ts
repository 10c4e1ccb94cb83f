/**
 * What asr's progress line says. A long file spends its first seconds (a minute, with a large
 * model on a busy machine) starting the engine, reading the audio and loading the model: each is a
 * step of its own, so the line never sits on a bare 0 %. Then the position in the media with the
 * time left at the pace so far.
 *
 * Whisper decodes 30-second windows and hands over a window's segments all at once, so the real
 * position jumps once per window. Between windows the position is estimated at the pace so far,
 * never past the end of the window being decoded; the next real position replaces the estimate
 * (and progress never goes backwards: the runner's throttle holds the highest value).
 */
import type { LoadedModel } from "../engines/engine.js";
import type { StageContext } from "./stage.js";

/** Segments of one window arrive within milliseconds: the last of them is the window's position. */
const BURST_MS = 100;
const TICK_MS = 1_000;
const WINDOW_SEC = 30;

export class AsrSteps {
  private transcribingSince: number | null = null;
  private latest: { position: number; duration: number; text: string } | null = null;
  private settled: { position: number; duration: number; text: string; at: number; pace: number } | null = null;
  private burst: NodeJS.Timeout | null = null;
  private ticker: NodeJS.Timeout | null = null;
  /** An estimate may run ahead of the next real position: the line never shows the media going back. */
  private shown = 0;

  constructor(
    private readonly progress: StageContext["progress"],
    private readonly verb: string,
    private readonly media: string,
    private readonly model: string,
  ) {}

  starting(engine: string): void {
    this.progress(0, `starting the ${engine} engine`);
  }

  loading(): void {
    this.progress(0, `reading ${this.media} and loading model ${this.model}`);
  }

  modelReady(info: LoadedModel): void {
    const how = info.cached ? "already loaded" : `loaded in ${info.load_sec.toFixed(1)} s`;
    this.progress(0, `model ${this.model} ${how}; detecting the language`);
  }

  audioRead(durationSec: number, language: string | null): void {
    this.transcribingSince = Date.now();
    this.progress(0, `${this.verb} ${clock(durationSec)} of ${language ?? "speech"}`);
  }

  /**
   * `textAt`: where the text is said. With lanes the position is the seconds transcribed in all and
   * the text a lane's, minutes away: the text then carries its own time, so the two tell one story.
   */
  position(positionSec: number, durationSec: number, text: string, textAt?: number): void {
    const elsewhere = textAt !== undefined && Math.abs(positionSec - textAt) > WINDOW_SEC;
    this.latest = { position: positionSec, duration: durationSec, text: elsewhere && text.trim() !== "" ? `(at ${clock(textAt)}) ${text.trim()}` : text.trim() };
    this.burst ??= setTimeout(() => this.settle(), BURST_MS);
  }

  /** Transcription has ended (or failed): no more estimates. */
  stop(): void {
    if (this.burst) clearTimeout(this.burst);
    if (this.ticker) clearInterval(this.ticker);
    this.burst = this.ticker = null;
  }

  private settle(): void {
    this.burst = null;
    const latest = this.latest;
    if (!latest) return;
    const now = Date.now();
    const elapsedSec = Math.max(0.001, (now - (this.transcribingSince ?? now)) / 1000);
    this.settled = { ...latest, at: now, pace: latest.position / elapsedSec };
    this.report(latest.position);
    this.ticker ??= setInterval(() => this.tick(), TICK_MS);
    this.ticker.unref();
  }

  private tick(): void {
    const settled = this.settled;
    if (!settled || settled.pace <= 0) return;
    const estimate = settled.position + (settled.pace * (Date.now() - settled.at)) / 1000;
    this.report(Math.min(estimate, settled.position + WINDOW_SEC, settled.duration));
  }

  private report(reached: number): void {
    const settled = this.settled;
    if (!settled) return;
    const positionSec = (this.shown = Math.max(this.shown, reached));
    // 1 is the stage's own word, once its files are written.
    const fraction = settled.duration > 0 ? Math.min(0.999, positionSec / settled.duration) : 0;
    const left = settled.pace > 0 ? Math.max(0, (settled.duration - positionSec) / settled.pace) : null;
    this.progress(fraction, `${clock(positionSec)} / ${clock(settled.duration)}${left === null ? "" : `, ${clock(left)} left`} ${settled.text}`.trimEnd());
  }
}

export function clock(seconds: number): string {
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = whole % 60;
  return `${h}:${String(m).padStart(2, "0")}:${String(s).padStart(2, "0")}`;
}
