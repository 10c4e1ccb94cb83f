/**
 * Real file-system faults for tests (they run as root): a folder made read-only by a read-only bind
 * mount of itself, and a tiny tmpfs that fills up. Each returns its undo, for the test's cleanup;
 * when mounting is impossible (not root, no mount namespace) it returns a reason to skip instead.
 */
import { execFileSync } from "node:child_process";

export type Mounted = { ok: true; undo: () => void } | { ok: false; reason: string };

function mount(args: string[][], target: string): Mounted {
  try {
    for (const step of args) execFileSync("mount", step, { stdio: "pipe" });
  } catch (error) {
    try {
      execFileSync("umount", [target], { stdio: "pipe" });
    } catch {
      // nothing was mounted
    }
    return { ok: false, reason: `cannot mount on ${target} here (${String((error as Error).message).split("\n")[0]}): needs root` };
  }
  return { ok: true, undo: () => execFileSync("umount", [target], { stdio: "pipe" }) };
}

/** `dir` becomes read-only (EROFS) until undone; its contents stay as they are. */
export function mountReadOnly(dir: string): Mounted {
  return mount([["--bind", dir, dir], ["-o", "remount,bind,ro", dir]], dir);
}

/** An empty tmpfs of `bytes` on `dir` (which must exist), so a test can fill it. */
export function mountTmpfs(dir: string, bytes: number): Mounted {
  return mount([["-t", "tmpfs", "-o", `size=${bytes}`, "tmpfs", dir]], dir);
}
