/**
 * The lease keeper's thread: it holds this process's run leases (proper-lockfile locks) and
 * refreshes their mtimes on an event loop that runs nothing else, so no work on the main thread
 * can make a live runner's lease go stale.
 */
import fs from "node:fs";
import { parentPort } from "node:worker_threads";
import lockfile from "proper-lockfile";

export type KeeperRequest =
  | { op: "acquire"; id: number; target: string; lockfilePath: string; staleMs: number; refreshMs: number }
  | { op: "release"; id: number; abandon: boolean };

export type KeeperReply =
  /** `held: false`: a live holder has it. */
  | { op: "acquired"; id: number; held: boolean }
  | { op: "failed"; id: number; message: string; code: string | null }
  | { op: "released"; id: number }
  /** Taken over, or its directory removed, while held. */
  | { op: "lost"; id: number; message: string };

interface Held {
  release: () => Promise<void>;
  abandoned: boolean;
}

export function threadMain(): void {
  const port = parentPort;
  if (!port) throw new Error("lease_thread runs only as a worker thread");
  const held = new Map<number, Held>();
  const reply = (message: KeeperReply) => port.postMessage(message);

  async function acquire(request: Extract<KeeperRequest, { op: "acquire" }>): Promise<void> {
    const entry: Held = { release: async () => undefined, abandoned: false };
    try {
      entry.release = await lockfile.lock(request.target, {
        lockfilePath: request.lockfilePath,
        realpath: false,
        stale: request.staleMs,
        update: request.refreshMs,
        retries: 0,
        // An abandoned lease stops being refreshed but its directory stays: by then it may be the
        // lease of the runner that took the task over, and only staleness may end it.
        fs: { ...fs, rmdir: (dir: string, done: (error: NodeJS.ErrnoException | null) => void) => (entry.abandoned ? done(null) : fs.rmdir(dir, done)) },
        onCompromised: (error) => {
          if (!held.delete(request.id)) return;
          reply({ op: "lost", id: request.id, message: error.message });
        },
      });
      held.set(request.id, entry);
      reply({ op: "acquired", id: request.id, held: true });
    } catch (error) {
      const { code, message } = error as NodeJS.ErrnoException;
      if (code === "ELOCKED") reply({ op: "acquired", id: request.id, held: false });
      else reply({ op: "failed", id: request.id, message, code: code ?? null });
    }
  }

  async function release(request: Extract<KeeperRequest, { op: "release" }>): Promise<void> {
    const entry = held.get(request.id);
    held.delete(request.id);
    if (entry) {
      entry.abandoned = request.abandon;
      await entry.release().catch(() => undefined);
    }
    reply({ op: "released", id: request.id });
  }

  port.on("message", (request: KeeperRequest) => void (request.op === "acquire" ? acquire(request) : release(request)));
}
