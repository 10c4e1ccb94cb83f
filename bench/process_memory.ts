/**
 * Memory of a process and everything it starts, from /proc (Linux): each process's own peak RSS
 * (VmHWM, kept by the kernel, so no spike is missed while the process is seen alive) and the peak
 * of the tree's summed RSS (sampled every POLL_MS, so a spike shorter than that can be missed).
 */
import { readFileSync, readdirSync } from "node:fs";

const POLL_MS = 250;

export interface ProcessPeak {
  pid: number;
  command: string;
  peakMiB: number;
}

export interface TreeMemory {
  /** Highest sum of RSS over the tree seen at one sample. */
  treePeakMiB: number;
  /** Every process seen, with its own peak RSS (VmHWM) as last read. */
  processes: ProcessPeak[];
}

function statusKiB(pid: number): { rss: number; hwm: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const field = (name: string) => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? 0);
    return { rss: field("VmRSS"), hwm: field("VmHWM") };
  } catch {
    return null; // exited between the listing and the read
  }
}

function parentOf(pid: number): number | null {
  try {
    // The command name (2nd field) is in parentheses and may hold spaces: the ppid is 2 fields after ")".
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
  } catch {
    return null;
  }
}

function commandOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean).join(" ");
  } catch {
    return "?";
  }
}

function tree(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync("/proc")) {
    const pid = Number(name);
    if (!Number.isInteger(pid)) continue;
    const parent = parentOf(pid);
    if (parent !== null) children.set(parent, [...(children.get(parent) ?? []), pid]);
  }
  const found = [root];
  for (let i = 0; i < found.length; i++) found.push(...(children.get(found[i] as number) ?? []));
  return found;
}

/** Starts watching `root`'s tree; stop() returns what was seen. */
export function watchMemory(root: number): { stop(): TreeMemory } {
  const seen = new Map<number, ProcessPeak>();
  let treePeakKiB = 0;
  const sample = () => {
    let sum = 0;
    for (const pid of tree(root)) {
      const status = statusKiB(pid);
      if (!status) continue;
      sum += status.rss;
      const known = seen.get(pid) ?? { pid, command: commandOf(pid), peakMiB: 0 };
      known.peakMiB = Math.max(known.peakMiB, status.hwm / 1024);
      seen.set(pid, known);
    }
    treePeakKiB = Math.max(treePeakKiB, sum);
  };
  sample();
  const timer = setInterval(sample, POLL_MS);
  return {
    stop() {
      clearInterval(timer);
      return { treePeakMiB: treePeakKiB / 1024, processes: [...seen.values()] };
    },
  };
}
