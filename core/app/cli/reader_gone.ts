/**
 * `sophia-cli events --follow | head -1` on a quiet workspace: nothing is written, so no EPIPE ever
 * says that head has gone, and the follower would wait for the next event to find out. GNU `tail -f`
 * polls its output for the error a pipe reports once its reader has left; Node cannot poll a file
 * descriptor, so a small Python process shares our stdout, polls it (select.poll, events 0: errors
 * and hang-ups only), and exits when that happens.
 */
import { spawn } from "node:child_process";
import { fstatSync, type Stats } from "node:fs";

const POLL_STDOUT = `
import select
poll = select.poll()
poll.register(1, 0)
while True:
    for _fd, events in poll.poll():
        if events & (select.POLLERR | select.POLLHUP | select.POLLNVAL):
            raise SystemExit(0)
`;

/**
 * Calls `gone` once the reader of this process's stdout has left, when stdout is a pipe or socket
 * (a terminal or a file has no reader to leave). Returns a function that stops watching. Without a
 * Python to run the poll, nothing is watched: the next write still ends the command quietly.
 */
export function whenStdoutReaderLeaves(python: string, gone: () => void): () => void {
  const stdout = stdoutStat();
  if (!stdout || !(stdout.isFIFO() || stdout.isSocket())) return () => undefined;
  const watcher = spawn(python, ["-c", POLL_STDOUT], { stdio: ["ignore", "inherit", "ignore"] });
  watcher.on("error", () => undefined);
  watcher.on("exit", (code) => {
    if (code === 0) gone();
  });
  watcher.unref();
  const stop = () => void watcher.kill();
  process.once("exit", stop);
  return stop;
}

function stdoutStat(): Stats | null {
  try {
    return fstatSync(1);
  } catch {
    return null; // stdout closed
  }
}
