/**
 * Scheduler: keeps up to `concurrency` tasks running, oldest queued first.
 *
 * `drain()` runs what is queued and returns (for `sophia-cli run`); `watch()` runs until `stop()`,
 * woken by the OS's file notifications on the task folder (`fs.watch`) and, as a safety net for
 * filesystems that do not notify (network shares, some containers), by a periodic rescan.
 * Every pass first recovers tasks orphaned by dead runners.
 *
 * A queued task whose run lease another process holds is not tried again until that lease would go
 * stale (or is gone): a runner that died between taking the lease and claiming leaves one behind
 * for LEASE_STALE_MS, and retrying it on every pass would spin.
 */
import { watch, type FSWatcher } from "node:fs";
import { mkdir, stat } from "node:fs/promises";
import path from "node:path";
import { asError } from "../errors.js";
import type { EventWriter } from "../task/events/event_writer.js";
import { queueOf, type Conflict, type InvalidEntry } from "./queue.js";
import { recoverOrphans, type Recovered } from "./recovery.js";
import type { RunOutcome, TaskRunner } from "./runner.js";
import type { StoredTask } from "../task/model/stored_task.js";
import { isTaskFileName, type TaskStore } from "../task/store/store.js";

/** A task file changed this recently may still be being written by the app. */
const SETTLE_MS = 1_500;
/** After a held lease's stale time, so that the next try finds it stale. */
const LEASE_RETRY_MARGIN_MS = 250;

export interface SchedulerOptions {
  runner: TaskRunner;
  store: TaskStore;
  events: EventWriter;
  concurrency: number;
  /** Seconds between safety-net rescans in watch mode. */
  rescanSec: number;
  onOutcome?: (outcome: RunOutcome) => void;
  onInvalid?: (entry: InvalidEntry) => void;
  /** Two or more files with one task_id: none is started; told once per runner. */
  onConflict?: (conflict: Conflict) => void;
  onRecovered?: (recovered: Recovered) => void;
  /** Watch mode: the file watcher is ready and the first pass has started. */
  onWatching?: () => void;
  /** A pass that failed (disk gone, permissions): reported, and the next pass tries again. */
  onPassError?: (error: unknown) => void;
}

export class Scheduler {
  private readonly running = new Map<string, Promise<void>>();
  private readonly outcomes: RunOutcome[] = [];
  /** file → the error already reported for it, so a broken file is reported once, not every pass. */
  private readonly reported = new Map<string, string>();
  /** task file → when its run lease, held by another process, would go stale (epoch ms): not tried before. */
  private readonly leaseWaits = new Map<string, number>();
  private stopping = false;
  private watching = false;
  private resolveStopped: () => void = () => undefined;
  private readonly stopped = new Promise<void>((resolve) => (this.resolveStopped = resolve));
  private pass: Promise<void> | null = null;
  private passAgain = false;
  private snapshot: StoredTask[] = [];
  private readonly startedSinceScan = new Set<string>();
  /** Something may have changed that the snapshot does not show: a file event, a timer. */
  private rescanNeeded = true;

  constructor(private readonly options: SchedulerOptions) {}

  /** Runs every queued task (each at most once), then resolves with their outcomes. */
  async drain(): Promise<RunOutcome[]> {
    const tried = new Set<string>();
    for (;;) {
      await this.fill(tried);
      if (this.running.size === 0) return this.outcomes;
      await Promise.race(this.running.values());
    }
  }

  /** Runs until `stop()` resolves. */
  async watch(): Promise<void> {
    const { tasksDir } = this.options.store.workspace;
    this.watching = true;
    await mkdir(tasksDir, { recursive: true });
    // fs.watch, not chokidar: on every change in the folder chokidar lists it and stats each entry
    // (ten thousand lstat calls with a long history, which also held up the lease and claim I/O
    // behind them), where a flat folder needs only the name the OS reports. A file created, renamed
    // in or written in place is named; anything else (locks, leases, temporary files) is not a task.
    const watcher: FSWatcher = watch(tasksDir, (_event, name) => {
      const changed = name === null ? null : name.toString();
      if (changed !== null && !isTaskFileName(changed)) return;
      if (changed !== null) this.options.store.forget(path.join(tasksDir, changed));
      this.scheduleScan();
    });
    // The folder removed or no longer watchable: the rescans carry on alone.
    watcher.on("error", (error) => {
      this.options.onPassError?.(error);
      watcher.close();
    });
    const rescan = setInterval(() => this.scheduleScan(), this.options.rescanSec * 1000);
    try {
      // Watching from here on: the first pass, after this, sees every file that came before.
      this.scheduleScan();
      if (!this.stopping) this.options.onWatching?.();
      await this.stopped;
    } finally {
      clearInterval(rescan);
      watcher.close();
    }
  }

  /** Stops claiming, hands the running tasks back to the queue, and waits for them to let go. */
  async stop(): Promise<void> {
    this.stopping = true;
    this.options.runner.shutdown();
    await this.pass;
    await Promise.all(this.running.values());
    this.resolveStopped();
  }

  private scheduleScan(): void {
    this.rescanNeeded = true;
    this.schedulePass();
  }

  private schedulePass(): void {
    if (this.stopping) return;
    if (this.pass) {
      this.passAgain = true;
      return;
    }
    this.pass = this.fill().catch((error: unknown) => this.options.onPassError?.(error)).finally(() => {
      this.pass = null;
      if (this.passAgain) {
        this.passAgain = false;
        this.schedulePass();
      }
    });
  }

  private async fill(tried?: Set<string>): Promise<void> {
    if (this.stopping) return;
    // Runs whose end this runner could not write (disk full) are recorded as soon as it can.
    for (const outcome of await this.options.runner.settleStranded()) this.record(outcome);
    for (const stored of await this.candidates(tried)) {
      if (this.stopping || this.running.size >= this.options.concurrency) break;
      if (this.running.has(stored.file) || tried?.has(stored.file) || (await this.waitingForLease(stored.file))) continue;
      tried?.add(stored.file);
      this.startedSinceScan.add(stored.file);
      this.start(stored);
    }
  }

  /**
   * The queue as the last scan saw it, while it still holds a task to start: a scan lists the whole
   * folder (history included), so a drain of many small tasks scans once per batch, not per task.
   * A task taken or canceled since is refused by its claim, which re-reads it under the lock.
   */
  private async candidates(tried?: Set<string>): Promise<StoredTask[]> {
    const startable = (stored: StoredTask) => !this.running.has(stored.file) && !tried?.has(stored.file) && !this.startedSinceScan.has(stored.file);
    if (!this.rescanNeeded && this.snapshot.some(startable)) return this.snapshot.filter(startable);
    this.rescanNeeded = false;
    this.startedSinceScan.clear();
    const { store, events } = this.options;
    const scan = await store.listWithLeftovers();
    const recovered = await recoverOrphans(store, events, scan);
    for (const one of recovered) this.options.onRecovered?.(one);
    // The listing recovery used is the queue too, unless recovery has just changed a task.
    const { queued, invalid, conflicts } = queueOf(recovered.length > 0 ? await store.list() : scan.entries);
    await this.reportInvalid(invalid);
    await this.reportConflicts(conflicts);
    this.snapshot = queued;
    return queued;
  }

  private async waitingForLease(file: string): Promise<boolean> {
    const retryAt = this.leaseWaits.get(file);
    if (retryAt === undefined || Date.now() >= retryAt) return false;
    // Released meanwhile (its holder claimed the task, or gave up): no reason to wait.
    return (await this.options.store.leaseStaleAt(file)) !== null;
  }

  /** Returns true the first time a task is found leased (the caller reports that), false while it stays so. */
  private async waitForLease(file: string): Promise<boolean> {
    const first = !this.leaseWaits.has(file);
    const staleAt = (await this.options.store.leaseStaleAt(file)) ?? Date.now();
    const retryAt = Math.max(staleAt, Date.now()) + LEASE_RETRY_MARGIN_MS;
    this.leaseWaits.set(file, retryAt);
    if (this.watching) setTimeout(() => this.scheduleScan(), retryAt - Date.now()).unref();
    return first;
  }

  private start(stored: StoredTask): void {
    const done = this.options.runner
      .run(stored)
      .then(
        (outcome) => outcome,
        // Not a task outcome but a fault of the runner: reported as such, never as a quiet skip.
        (error: unknown): RunOutcome => ({ kind: "crashed", taskId: stored.task.task_id, reason: asError(error).message }),
      )
      .then(async (outcome) => {
        if (outcome.kind === "busy") {
          if (!(await this.waitForLease(stored.file))) return;
        } else {
          this.leaseWaits.delete(stored.file);
        }
        this.record(outcome);
      })
      .finally(() => {
        this.running.delete(stored.file);
        this.schedulePassIfWatching();
      });
    this.running.set(stored.file, done);
  }

  private record(outcome: RunOutcome): void {
    this.outcomes.push(outcome);
    this.options.onOutcome?.(outcome);
  }

  private schedulePassIfWatching(): void {
    if (this.watching) this.schedulePass();
  }

  private async reportInvalid(invalid: InvalidEntry[]): Promise<void> {
    for (const entry of invalid) {
      if (this.reported.get(entry.file) === entry.error.message) continue;
      if (this.watching && (await modifiedWithin(entry.file, SETTLE_MS))) {
        // An app that writes its task file in place may be mid-write: look again once it has settled.
        setTimeout(() => this.scheduleScan(), SETTLE_MS).unref();
        continue;
      }
      this.reported.set(entry.file, entry.error.message);
      this.options.onInvalid?.(entry);
      await this.options.events.emit({ task_id: entry.idFromName, run_id: null }, "task.rejected", {
        file: this.options.store.workspace.display(entry.file),
        error: entry.error.message,
      });
    }
  }

  private async reportConflicts(conflicts: Conflict[]): Promise<void> {
    for (const conflict of conflicts) {
      const key = `conflict:${conflict.taskId}`;
      if (this.reported.get(key) === conflict.error.message) continue;
      this.reported.set(key, conflict.error.message);
      this.options.onConflict?.(conflict);
      const { workspace } = this.options.store;
      await this.options.events.emit({ task_id: conflict.taskId, run_id: null }, "task.conflict", {
        files: conflict.files.map((file) => workspace.display(file)),
        error: conflict.error.message,
      });
    }
  }
}

async function modifiedWithin(file: string, ms: number): Promise<boolean> {
  const info = await stat(file).catch(() => null);
  return info !== null && Date.now() - info.mtimeMs < ms;
}
