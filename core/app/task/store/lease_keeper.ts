/**
 * The run leases of this process, kept fresh by one worker thread (lease_thread.ts).
 *
 * A lease is a runner's proof of life: while it is fresh, no other runner takes the task. Were it
 * refreshed on the main thread, a long synchronous computation would starve the refresh and a live,
 * busy runner would look dead (two runners then each "recovered" the task from the other). The
 * keeper thread's event loop runs nothing else, so only a frozen (SIGSTOP) or dead process lets
 * its leases go stale. The thread is started on the first lease and holds the process open only
 * while it holds a lease.
 */
import type { Worker } from "node:worker_threads";
import { startModuleThread } from "../../threads/module_thread.js";
import type { KeeperReply, KeeperRequest } from "./lease_thread.js";

export interface Lease {
  /** Lets go: the lease directory is removed. */
  release(): Promise<void>;
  /**
   * Stops refreshing without removing the directory: for a runner that found its task taken over,
   * whose lease may be the new owner's by now. It goes stale within the stale time.
   */
  abandon(): Promise<void>;
}

export interface LeaseTiming {
  staleMs: number;
  refreshMs: number;
}

type Waiter = (reply: KeeperReply) => void;

class LeaseKeeper {
  private thread: Worker | null = null;
  private nextId = 1;
  private readonly waiters = new Map<number, Waiter>();
  private readonly lostHandlers = new Map<number, (error: Error) => void>();

  /** Takes the lease at `lockfilePath`, or returns null when a live holder has it. */
  async acquire(target: string, lockfilePath: string, timing: LeaseTiming, onLost: (error: Error) => void): Promise<Lease | null> {
    const id = this.nextId++;
    const reply = await this.request({ op: "acquire", id, target, lockfilePath, ...timing });
    if (reply.op === "failed") throw Object.assign(new Error(reply.message), { code: reply.code ?? undefined });
    if (reply.op !== "acquired" || !reply.held) return null;
    this.lostHandlers.set(id, onLost);
    this.updateRef();
    let ended = false;
    const end = async (abandon: boolean) => {
      if (ended || !this.lostHandlers.delete(id)) return;
      ended = true;
      await this.request({ op: "release", id, abandon });
      this.updateRef();
    };
    return { release: () => end(false), abandon: () => end(true) };
  }

  private request(message: KeeperRequest): Promise<KeeperReply> {
    const thread = this.start();
    return new Promise((resolve) => {
      this.waiters.set(message.id, resolve);
      this.updateRef();
      thread.postMessage(message);
    });
  }

  private start(): Worker {
    if (this.thread) return this.thread;
    const thread = startModuleThread(new URL("./lease_thread.js", import.meta.url), null);
    thread.on("message", (reply: KeeperReply) => this.receive(reply));
    const fail = (error: Error) => this.threadGone(thread, error);
    thread.on("error", fail);
    thread.on("exit", (code) => fail(new Error(`the lease keeper thread exited (code ${code})`)));
    this.thread = thread;
    return thread;
  }

  private receive(reply: KeeperReply): void {
    if (reply.op === "lost") {
      const onLost = this.lostHandlers.get(reply.id);
      this.lostHandlers.delete(reply.id);
      this.updateRef();
      onLost?.(new Error(reply.message));
      return;
    }
    const waiter = this.waiters.get(reply.id);
    this.waiters.delete(reply.id);
    this.updateRef();
    waiter?.(reply);
  }

  /** Every lease it held is lost with it; every request in flight fails. */
  private threadGone(thread: Worker, error: Error): void {
    if (this.thread !== thread) return;
    this.thread = null;
    for (const [id, waiter] of this.waiters) waiter({ op: "failed", id, message: error.message, code: null });
    this.waiters.clear();
    const lost = [...this.lostHandlers.values()];
    this.lostHandlers.clear();
    for (const onLost of lost) onLost(error);
  }

  /** The thread keeps the process alive only while it holds a lease or owes a reply. */
  private updateRef(): void {
    if (!this.thread) return;
    if (this.waiters.size > 0 || this.lostHandlers.size > 0) this.thread.ref();
    else this.thread.unref();
  }
}

export const leaseKeeper = new LeaseKeeper();
