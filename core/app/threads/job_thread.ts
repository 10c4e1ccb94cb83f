/** The thread side of runOffThread: imports the job's module, runs the job, posts progress and the result. */
import { parentPort } from "node:worker_threads";
import { isSophiaError } from "../errors.js";
import type { JobMessage } from "./off_thread.js";

interface JobData {
  module: string;
  name: string;
  input: unknown;
}

export async function threadMain(data: JobData): Promise<void> {
  const post = (message: JobMessage) => parentPort?.postMessage(message);
  try {
    const module = (await import(data.module)) as Record<string, unknown>;
    const job = module[data.name];
    if (typeof job !== "function") throw new Error(`${data.module} exports no function "${data.name}"`);
    const result: unknown = await job(data.input, (fraction: number, msg: string) => post({ type: "progress", fraction, msg }));
    post({ type: "done", result });
  } catch (thrown) {
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    post({
      type: "error",
      error: { message: error.message, stack: error.stack, ...(isSophiaError(error) ? { code: error.code, details: plainDetails(error.details) } : {}) },
    });
  }
}

/** Details that survive a structured clone (a cause or a zod issue list may not). */
function plainDetails(details: Record<string, unknown>): Record<string, unknown> {
  try {
    return structuredClone(details);
  } catch {
    return {};
  }
}
