/**
 * Long pure computations run off the main thread, so that the event loop stays free: the cancel
 * watchdog keeps reading the task file, progress reaches the event stream, and abort is immediate
 * (the thread is terminated, whatever it was doing).
 *
 * A job is a function exported by a module: `fn(input, progress)`, returning its result. Input and
 * result cross the thread boundary by structured clone, so both must be plain data (no functions, no
 * class instances); a SophiaError thrown by the job arrives as a SophiaError with its code.
 */
import { SophiaError, type ErrorCode } from "../errors.js";
import { startModuleThread } from "./module_thread.js";

/** A job's module and export; the type parameters tie `runOffThread`'s input and result to it. */
export interface OffThreadJob<I, O> {
  module: URL;
  name: string;
  /** Phantom: never set, carries the job's types. */
  readonly types?: (input: I) => O;
}

export type JobProgress = (fraction: number, msg: string) => void;

export function offThreadJob<I, O>(module: URL, name: string): OffThreadJob<I, O> {
  return { module, name };
}

/** The exports of module type M that are jobs: functions of (input, progress). */
type JobNames<M> = { [K in keyof M]: M[K] extends (input: never, progress: JobProgress) => unknown ? K : never }[keyof M] & string;
type JobOf<F> = F extends (input: infer I, progress: JobProgress) => infer O ? OffThreadJob<I, O> : never;

/**
 * A job named by the export of a module whose type the caller gives (`import type * as M`):
 * `jobOf<typeof M>()(url, "planRefineJob")`. A name the module does not export, or an export that
 * is not a job, does not compile, and the job's input and result types come from the function.
 */
export function jobOf<M>() {
  return <K extends JobNames<M>>(module: URL, name: K): JobOf<M[K]> => ({ module, name }) as unknown as JobOf<M[K]>;
}

/** Messages from the job thread (job_thread.ts). */
export type JobMessage =
  | { type: "progress"; fraction: number; msg: string }
  | { type: "done"; result: unknown }
  | { type: "error"; error: { message: string; stack?: string; code?: ErrorCode; details?: Record<string, unknown> } };

export interface OffThreadOptions {
  /** Aborting terminates the thread and rejects with `signal.reason`. */
  signal?: AbortSignal;
  onProgress?: JobProgress;
  /**
   * Run the job on this thread instead, for an input so small that a thread's start (and the job's
   * modules loaded again there) would cost far more than the job; the abort is then checked after it.
   */
  inline?: boolean;
}

export function runOffThread<I, O>(job: OffThreadJob<I, O>, input: I, options: OffThreadOptions = {}): Promise<O> {
  const { signal, onProgress } = options;
  signal?.throwIfAborted();
  if (options.inline) return runInline(job, input, options);
  const thread = startModuleThread(new URL("./job_thread.js", import.meta.url), { module: job.module.href, name: job.name, input });
  return new Promise<O>((resolve, reject) => {
    let settled = false;
    const finish = (settle: () => void) => {
      if (settled) return;
      settled = true;
      signal?.removeEventListener("abort", onAbort);
      void thread.terminate();
      settle();
    };
    const onAbort = () => finish(() => reject(signal?.reason));
    signal?.addEventListener("abort", onAbort, { once: true });
    thread.on("message", (message: JobMessage) => {
      if (message.type === "progress") onProgress?.(message.fraction, message.msg);
      else if (message.type === "done") finish(() => resolve(message.result as O));
      else finish(() => reject(errorFromThread(message.error)));
    });
    thread.on("error", (error) => finish(() => reject(error)));
    thread.on("exit", (code) => finish(() => reject(new SophiaError("internal", `the ${job.name} thread exited (code ${code}) before it finished`))));
  });
}

async function runInline<I, O>(job: OffThreadJob<I, O>, input: I, { signal, onProgress }: OffThreadOptions): Promise<O> {
  const module = (await import(job.module.href)) as Record<string, unknown>;
  const run = module[job.name];
  if (typeof run !== "function") throw new Error(`${job.module.href} exports no function "${job.name}"`);
  // A clone, as the thread would get: the job may not change the caller's data.
  const result = (await run(structuredClone(input), (fraction: number, msg: string) => onProgress?.(fraction, msg))) as O;
  signal?.throwIfAborted();
  return result;
}

function errorFromThread(error: Extract<JobMessage, { type: "error" }>["error"]): Error {
  const rebuilt = error.code ? new SophiaError(error.code, error.message, { details: error.details ?? {} }) : new Error(error.message);
  if (error.stack) rebuilt.stack = error.stack;
  return rebuilt;
}
