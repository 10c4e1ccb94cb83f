/**
 * The claim lock of a task file, `<file>.lock`: held for the few milliseconds of a read-modify-write
 * of the file, and a fence for that write.
 *
 * The lock is a folder that holds one folder named for its holder's token, made whole under another
 * name and renamed into place (a rename onto a missing or empty folder is atomic, onto a folder with
 * something in it fails), so the lock and its holder appear in one step. A holder writes the task
 * file by renaming a temporary file from its own token folder (`writeFenced`). A lock whose token
 * folder is older than CLAIM_LOCK_STALE_MS is taken over by renaming that token folder away: from
 * that instant, the old holder's temporary file has no path, so its rename fails (ENOENT) whatever
 * it was doing when it stopped. A runner frozen (SIGSTOP, a suspended VM) between reading the task
 * file and renaming its new version over it therefore never writes over what happened since: its
 * write fails as `ClaimLost`, and the store reads the file again.
 *
 * Hand-rolled: proper-lockfile (used for run leases) keeps its lock as an empty folder and takes a
 * stale one over by removing it, which gives the old holder no way to notice before it writes.
 */
import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, rmdirSync, statSync, utimesSync, writeSync } from "node:fs";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fsyncDirectory } from "../../atomic_write.js";

/** A claim lock is held for milliseconds: one whose holder took this long is dead or frozen. */
export const CLAIM_LOCK_STALE_MS = 5_000;
/** How long a claim waits for a held lock before giving up (task_busy): past the stale time, so a dead holder's lock is taken over first. */
const CLAIM_WAIT_MS = 8_000;

/** The lock was taken over (its holder was frozen past CLAIM_LOCK_STALE_MS): nothing was written. */
export class ClaimLost extends Error {
  constructor(file: string) {
    super(`the claim lock of ${path.basename(file)} was taken over while held`);
  }
}

/** The lock is still held by another process after CLAIM_WAIT_MS. */
export class ClaimBusy extends Error {
  constructor(readonly file: string) {
    super(`${path.basename(file)} stayed locked by another process`);
  }
}

export interface HeldClaim {
  /** Writes `data` to `target` (in the lock's folder) atomically, unless the lock was taken over: then throws ClaimLost. */
  writeFenced(target: string, data: string): void;
}

export function claimLockPath(file: string): string {
  return `${file}.lock`;
}

/** Runs `body` holding the claim lock of `file`. */
export async function withClaim<T>(file: string, body: (held: HeldClaim) => Promise<T>): Promise<T> {
  const token = randomBytes(8).toString("hex");
  const lock = claimLockPath(file);
  const own = path.join(lock, token);
  await acquire(file, token);
  try {
    return await body({ writeFenced: (target, data) => writeThrough(own, target, data) });
  } finally {
    release(lock, own);
  }
}

async function acquire(file: string, token: string): Promise<void> {
  const lock = claimLockPath(file);
  const staging = `${lock}.${token}`;
  mkdirSync(path.join(staging, token), { recursive: true });
  const deadline = Date.now() + CLAIM_WAIT_MS;
  let wait = 2;
  try {
    for (;;) {
      try {
        // Stale is judged by this folder's mtime: fresh at the rename, however long the wait was.
        if (wait > 2) utimesSync(path.join(staging, token), new Date(), new Date());
        renameSync(staging, lock);
        return;
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EISDIR") throw error;
      }
      if (takeOverIfStale(lock, token)) continue;
      if (Date.now() > deadline) throw new ClaimBusy(file);
      await sleep(wait + Math.random() * wait);
      wait = Math.min(wait * 1.5, 100);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
}

/**
 * Takes a stale lock's token folder away (a rename, so of two runners that find it stale only one
 * succeeds); the lock folder is then empty, and the next rename onto it takes it. Also clears an
 * empty lock folder that stayed empty past the stale time (its taker died between the two steps, or
 * an older version of Sophia left it).
 */
function takeOverIfStale(lock: string, token: string): boolean {
  let holders: string[];
  try {
    holders = readdirSync(lock);
  } catch {
    return true; // released meanwhile: try again at once
  }
  const now = Date.now();
  if (holders.length === 0) {
    if (!isStale(lock, now)) return false;
    try {
      rmdirSync(lock);
    } catch {
      // Taken meanwhile.
    }
    return true;
  }
  const holder = path.join(lock, holders[0] as string);
  if (!isStale(holder, now)) return false;
  const grave = `${lock}.${token}.stale`;
  try {
    renameSync(holder, grave);
  } catch {
    return true; // another runner took it over first
  }
  rmSync(grave, { recursive: true, force: true });
  return true;
}

function isStale(folder: string, now: number): boolean {
  const info = statSync(folder, { throwIfNoEntry: false });
  return info !== undefined && now - info.mtimeMs > CLAIM_LOCK_STALE_MS;
}

/** Write, fsync, rename from the holder's own folder: the rename fails (ENOENT) once the folder was taken away. */
function writeThrough(own: string, file: string, data: string): void {
  const temp = path.join(own, "write");
  let fd: number;
  try {
    fd = openSync(temp, "w", 0o644);
  } catch (error) {
    throw lostOr(error, file);
  }
  try {
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    renameSync(temp, file);
  } catch (error) {
    throw lostOr(error, file);
  }
  fsyncDirectory(path.dirname(file));
}

function lostOr(error: unknown, file: string): unknown {
  return (error as NodeJS.ErrnoException).code === "ENOENT" ? new ClaimLost(file) : error;
}

function release(lock: string, own: string): void {
  try {
    rmSync(path.join(own, "write"), { force: true });
    rmdirSync(own);
  } catch {
    return; // taken over: the lock is another holder's now
  }
  try {
    rmdirSync(lock);
  } catch {
    // Another process took the empty folder meanwhile.
  }
}

/**
 * Removes what claims of `file` killed half-way left beside it: a folder made to become the lock,
 * or a stale holder's folder taken away, once older than the stale time (a live claim takes milliseconds).
 */
export function removeAbandonedClaimFolders(file: string): void {
  const dir = path.dirname(file);
  const prefix = `${path.basename(claimLockPath(file))}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  const now = Date.now();
  for (const name of names) {
    if (name.startsWith(prefix) && isStale(path.join(dir, name), now)) rmSync(path.join(dir, name), { recursive: true, force: true });
  }
}
