/**
 * One worker.py process: started once, then serving transcription and alignment requests one at a time, so a
 * loaded model stays in memory between tasks. Once it has crashed or been aborted it is dead for
 * good (`alive === false`); the pool (engine.ts) starts a fresh one.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { SophiaError, type ErrorCode } from "../../errors.js";
import type { Transcript, TranscriptSegment } from "../../transcript.js";
import type { AlignControls, AlignedWord, AlignRequest, EngineConfig, LoadedModel, TranscribeControls, TranscribeRequest } from "../engine.js";
import { workerOptions } from "./options.js";
import { parseWorkerLine, workerErrorCode, type AlignRequestMessage, type LoadRequestMessage, type ErrorMessage, type ReadyMessage, type RequestMessage, type TranscribeRequestMessage, type WorkerMessage } from "./protocol.js";
import { PYTHON_HINT } from "./python_setup.js";

export interface WhisperWorkerOptions {
  /** The Python interpreter of the engine's venv (see resolvePython). */
  python: string;
  /** Local model directories by name, passed to the worker as SOPHIA_MODELS_DIR. */
  modelsDir?: string;
  /** The worker script: worker.py in the source tree unless a test substitutes a fake. */
  script?: string;
  /** Added to the inherited environment. */
  env?: Record<string, string>;
  /** How long the worker may take to import faster_whisper and say `ready`. */
  readyTimeoutMs?: number;
}

/** worker.py sits beside this module: in the source tree, and in dist/ where the build copies it (scripts/copy-assets.ts). */
export const WORKER_SCRIPT = fileURLToPath(new URL("./worker.py", import.meta.url));

const STDERR_TAIL_BYTES = 8 * 1024;
const DEFAULT_READY_TIMEOUT_MS = 30_000;
/** SIGTERM first so Python can die cleanly; SIGKILL soon after, because cancellation must be prompt. */
const TERM_GRACE_MS = 300;
const CLOSE_GRACE_MS = 2_000;

type Reply = Exclude<WorkerMessage, ReadyMessage | { type: "model" } | { type: "error" }>;

interface Pending {
  message: RequestMessage;
  onModel?: (model: LoadedModel) => void;
  /** The request's own replies (all but `model` and `error`); calls `resolve` with the result on the last. */
  onReply: (reply: Reply, resolve: (result: unknown) => void) => void;
  resolve: (result: unknown) => void;
  reject: (error: unknown) => void;
}

export class WhisperWorker {
  readonly pid: number;

  private readonly child: ChildProcessWithoutNullStreams;
  private readonly exited: Promise<void>;
  private stderrTail = "";
  private exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null = null;
  private pending: Pending | null = null;
  private nextId = 1;
  private closing: Promise<void> | null = null;
  /** Set once a kill is under way: late lines from the dying process are ignored. */
  private killing = false;
  private onReady: ((message: ReadyMessage) => void) | null = null;
  /** Why the worker could not start, when it said so before exiting (a cluster it cannot reach). */
  private startError: ErrorMessage | null = null;
  private lastRequestConfig: EngineConfig | null = null;

  /**
   * Starts worker.py and resolves once it is ready; rejects with engine_unavailable when it cannot
   * start. `signal` kills it before it is ready (a runner closing while a spare worker starts).
   */
  static async start(options: WhisperWorkerOptions, signal?: AbortSignal): Promise<WhisperWorker> {
    signal?.throwIfAborted();
    const worker = new WhisperWorker(options);
    const onAbort = () => void worker.kill();
    signal?.addEventListener("abort", onAbort, { once: true });
    try {
      await worker.waitReady(options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS, options);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    return worker;
  }

  private constructor(private readonly options: WhisperWorkerOptions) {
    const env: NodeJS.ProcessEnv = { ...process.env, PYTHONUNBUFFERED: "1", ...options.env };
    if (options.modelsDir) env.SOPHIA_MODELS_DIR = options.modelsDir;
    this.child = spawn(options.python, [options.script ?? WORKER_SCRIPT], { env, stdio: ["pipe", "pipe", "pipe"] });
    this.pid = this.child.pid ?? -1;

    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => (this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_BYTES)));
    // A worker that died mid-write makes stdin emit EPIPE; its death is reported by the exit path.
    this.child.stdin.on("error", () => {});
    createInterface({ input: this.child.stdout, crlfDelay: Infinity }).on("line", (line) => this.onLine(line));

    this.exited = new Promise((resolve) => {
      // "close" (not "exit"): every line the worker wrote before dying is handled first.
      this.child.on("close", (code, signal) => {
        this.exit ??= { code, signal };
        this.onExit();
        resolve();
      });
      // Spawn failures (ENOENT for a missing interpreter) may never produce "close".
      this.child.on("error", (error) => {
        this.exit ??= { code: null, signal: null, error };
        this.onExit();
        resolve();
      });
    });
  }

  /** The engine options and model of the last request this worker was given: what a replacement should load. */
  get lastConfig(): EngineConfig | null {
    return this.lastRequestConfig;
  }

  /** False once the process has exited, crashed, or been killed. */
  get alive(): boolean {
    return this.exit === null && this.closing === null && !this.killing;
  }

  /** Transcribes one media file; rejects with a SophiaError, or with `signal.reason` when aborted. */
  async transcribe(request: TranscribeRequest, controls: TranscribeControls): Promise<Transcript> {
    const message: TranscribeRequestMessage = { type: "transcribe", id: this.nextRequestId(), media: request.media, model: request.config.model, options: workerOptions(request.config) };
    this.lastRequestConfig = request.config;
    let duration = 0;
    let languageProbability: number | null = null;
    const segments: TranscriptSegment[] = [];
    const transcript = this.request<Transcript>(message, controls.signal, controls.onModel, (reply, resolve) => {
      switch (reply.type) {
        case "info":
          duration = reply.duration;
          languageProbability = reply.language_probability;
          controls.onAudio?.({ duration_sec: reply.duration, language: reply.language });
          return;
        case "progress":
          controls.onProgress({ position_sec: Math.min(reply.position, duration), duration_sec: duration, text: reply.text, ...(reply.text_at === undefined ? {} : { text_at_sec: reply.text_at }) });
          return;
        case "segment": {
          const { type: _type, id: _id, ...segment } = reply;
          segments.push(segment);
          return;
        }
        case "done":
          resolve({
            media: message.media,
            duration_sec: reply.duration,
            // Whisper's translate task writes English whatever was spoken: refine must treat the words as English.
            language: message.options.task === "translate" ? "en" : reply.language,
            spoken_language: reply.language,
            language_probability: languageProbability,
            model: message.model,
            segments,
            ...(reply.coverage ? { coverage: reply.coverage } : {}),
          });
          return;
        default:
          this.fault(`sent "${reply.type}" in reply to a transcribe request`);
      }
    });
    controls.onAccepted?.(); // the request is written: the worker is reading the audio and loading the model
    return transcript;
  }

  /** Times the words of each span on the audio (forced alignment); rejects like transcribe. */
  async align(request: AlignRequest, controls: AlignControls): Promise<(AlignedWord[] | null)[]> {
    const message: AlignRequestMessage = {
      type: "align",
      id: this.nextRequestId(),
      media: request.media,
      model: request.config.model,
      options: workerOptions(request.config),
      language: request.language,
      spans: request.spans.map((span) => ({ start: span.start, end: span.end, words: [...span.words] })),
    };
    this.lastRequestConfig = request.config;
    return this.request<(AlignedWord[] | null)[]>(message, controls.signal, controls.onModel, (reply, resolve) => {
      if (reply.type === "align_progress") {
        controls.onProgress?.(reply.done, reply.total);
        return;
      }
      const fits = reply.type === "aligned" && reply.spans.length === message.spans.length && reply.spans.every((span, k) => span === null || span.length === message.spans[k]?.words.length);
      if (reply.type === "aligned" && fits) resolve(reply.spans);
      else this.fault(`sent "${reply.type}" that does not answer the align request (${message.spans.length} spans)`);
    });
  }

  /** Loads the model a request with `config` would use, ahead of that request; resolves once it is in memory. */
  async load(config: EngineConfig, signal: AbortSignal): Promise<LoadedModel> {
    const message: LoadRequestMessage = { type: "load", id: this.nextRequestId(), model: config.model, options: workerOptions(config) };
    this.lastRequestConfig = config;
    // `model` is the whole answer to a load: the pending request is this one while it is in flight.
    return this.request<LoadedModel>(message, signal, (model) => this.pending?.resolve(model), (reply) => this.fault(`sent "${reply.type}" in reply to a load request`));
  }

  private nextRequestId(): string {
    return `${this.pid}-${this.nextId++}`;
  }

  private request<T>(message: RequestMessage, signal: AbortSignal, onModel: ((model: LoadedModel) => void) | undefined, onReply: Pending["onReply"]): Promise<T> {
    signal.throwIfAborted();
    if (!this.alive) throw this.deadError("cannot take a request");
    if (this.pending) throw new SophiaError("internal", `faster_whisper worker ${this.pid} is busy: one request at a time`);
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => void this.abort(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
      const settle = () => {
        signal.removeEventListener("abort", onAbort);
        this.pending = null;
      };
      this.pending = {
        message,
        onModel,
        onReply,
        resolve: (result) => (settle(), resolve(result as T)),
        reject: (error) => (settle(), reject(error)),
      };
      this.child.stdin.write(`${JSON.stringify(message)}\n`);
    });
  }

  /** Ends stdin so the worker exits on its own; kills it if it has not after a short wait. Idempotent. */
  close(): Promise<void> {
    if (this.closing) return this.closing;
    this.closing = (async () => {
      if (this.exit) return;
      this.child.stdin.end();
      if (await this.exitsWithin(CLOSE_GRACE_MS)) return;
      await this.kill();
    })();
    return this.closing;
  }

  private async waitReady(timeoutMs: number, options: WhisperWorkerOptions): Promise<void> {
    const ready = new Promise<ReadyMessage>((resolve) => (this.onReady = resolve));
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
    const outcome = await Promise.race([ready, this.exited.then(() => "exited" as const), timeout]);
    clearTimeout(timer);
    if (typeof outcome === "object") return;
    if (outcome === "timeout") await this.kill();
    if (outcome === "exited" && this.startError) {
      throw new SophiaError(workerErrorCode(this.startError.code), this.startError.message, { details: { python: options.python, stderr_tail: this.stderrTail } });
    }
    const how =
      outcome === "timeout"
        ? `it did not say ready within ${timeoutMs / 1000} s`
        : this.exit?.error
          ? `${this.exit.error.message}`
          : `it exited (${describeExit(this.exit)}) before saying ready`;
    throw new SophiaError("engine_unavailable", `cannot start the faster_whisper worker (${options.python}): ${how}; ${this.startHint(outcome)}${this.stderrSuffix()}`, {
      cause: this.exit?.error,
      details: { python: options.python, script: options.script ?? WORKER_SCRIPT, stderr_tail: this.stderrTail },
    });
  }

  /**
   * What the user can do about a failed start. Only a worker that could not run or exited on its own
   * points at the setup: a killed one (out of memory, a stop from outside) or a slow one has a
   * sound venv, and re-running the setup would not help.
   */
  private startHint(outcome: "exited" | "timeout"): string {
    if (outcome === "timeout") return "the machine may be too busy to load Python and faster-whisper in time; try again, or raise readyTimeoutMs";
    if (this.exit?.signal && !this.exit.error) return `it was killed by ${this.exit.signal} (out of memory, or stopped from outside); try again`;
    return PYTHON_HINT;
  }

  private onLine(line: string): void {
    if (line.trim() === "" || this.killing) return;
    const parsed = parseWorkerLine(line);
    if (!parsed.ok) {
      this.fault(`wrote a line that is not protocol (${parsed.problem}): ${line.slice(0, 300)}`);
      return;
    }
    const message = parsed.message;
    if (message.type === "ready") {
      this.onReady?.(message);
      return;
    }
    const pending = this.pending;
    if (!pending) {
      if (message.type !== "error") this.fault(`sent "${message.type}" with no request in flight`);
      else if (this.onReady) this.startError = message;
      return;
    }
    if (message.id !== pending.message.id) {
      if (message.type === "error" && message.id === null) this.failPending(pending, "internal", `the worker refused the request: ${message.message}`);
      else this.fault(`answered request ${String(message.id)} while ${pending.message.id} was in flight`);
      return;
    }
    try {
      this.onReply(pending, message);
    } catch (error) {
      pending.reject(error); // a throwing progress callback must not take the runner down
    }
  }

  private onReply(pending: Pending, message: Exclude<WorkerMessage, ReadyMessage>): void {
    switch (message.type) {
      case "model": {
        const { type: _type, id: _id, ...model } = message;
        pending.onModel?.(model);
        return;
      }
      case "error":
        this.failPending(pending, workerErrorCode(message.code), message.message, { worker_code: message.code, traceback: message.traceback ?? "" });
        return;
      default:
        pending.onReply(message, pending.resolve);
    }
  }

  private failPending(pending: Pending, code: ErrorCode, message: string, details: Record<string, unknown> = {}): void {
    pending.reject(new SophiaError(code, message, { details: { media: mediaOf(pending.message), model: pending.message.model, ...details } }));
  }

  /** The worker broke the protocol: its state is unknown, so it is killed and the request fails. */
  private fault(problem: string): void {
    const error = new SophiaError("internal", `faster_whisper worker ${this.pid} ${problem}`, { details: { stderr_tail: this.stderrTail } });
    this.pending?.reject(error);
    void this.kill();
  }

  private async abort(reason: unknown): Promise<void> {
    const pending = this.pending;
    this.pending = null; // the exit that follows is ours, not a crash
    await this.kill();
    pending?.reject(reason);
  }

  private onExit(): void {
    this.onReady = null;
    const pending = this.pending;
    if (!pending) return;
    const closing = this.closing !== null;
    pending.reject(
      new SophiaError(closing ? "interrupted" : "worker_crashed", `faster_whisper worker ${this.pid} ${closing ? "was closed" : `died (${describeExit(this.exit)})`} while ${doing(pending.message)}${this.stderrSuffix()}`, {
        details: { media: mediaOf(pending.message), model: pending.message.model, exit_code: this.exit?.code ?? null, signal: this.exit?.signal ?? null, stderr_tail: this.stderrTail },
      }),
    );
  }

  private async kill(): Promise<void> {
    if (this.exit) return;
    this.killing = true;
    this.child.kill("SIGTERM");
    if (await this.exitsWithin(TERM_GRACE_MS)) return;
    this.child.kill("SIGKILL");
    await this.exitsWithin(TERM_GRACE_MS);
  }

  private async exitsWithin(ms: number): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const exited = await Promise.race([this.exited.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
    clearTimeout(timer);
    return exited;
  }

  private deadError(what: string): SophiaError {
    return new SophiaError("worker_crashed", `faster_whisper worker ${this.pid} ${what}: it is no longer running (${this.exit ? describeExit(this.exit) : "closed"})${this.stderrSuffix()}`, {
      details: { exit_code: this.exit?.code ?? null, signal: this.exit?.signal ?? null, stderr_tail: this.stderrTail },
    });
  }

  private stderrSuffix(): string {
    const tail = this.stderrTail.trimEnd();
    return tail === "" ? "" : `\nworker stderr (last lines):\n${lastLines(tail, 20)}`;
  }
}

function mediaOf(message: RequestMessage): string | null {
  return message.type === "load" ? null : message.media;
}

function doing(message: RequestMessage): string {
  if (message.type === "load") return `loading model ${message.model}`;
  return `${message.type === "align" ? "aligning" : "transcribing"} ${message.media}`;
}

function describeExit(exit: { code: number | null; signal: NodeJS.Signals | null; error?: Error } | null): string {
  if (!exit) return "still running";
  if (exit.error) return exit.error.message;
  return exit.signal ? `killed by ${exit.signal}` : `exit code ${String(exit.code)}`;
}

function lastLines(text: string, count: number): string {
  return text.split("\n").slice(-count).join("\n");
}
