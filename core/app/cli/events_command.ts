/**
 * `sophia-cli events [--follow] [--task <id>] [--since T] [-n N]`: the event stream, as NDJSON
 * (--json) or one line per event, on stdout. Lines that are not events are skipped and reported on
 * stderr (one line with their count, or a JSON object with --json), so stdout stays events only.
 */
import { Command, InvalidArgumentError } from "commander";
import { SophiaError, isSophiaError } from "../errors.js";
import type { FollowOptions, SophiaEvent, SophiaWorkspace } from "../interfaces.js";
import { resolveSettings } from "../config.js";
import { isFinished } from "../task/model/task_status.js";
import { openContext, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";
import { whenStdoutReaderLeaves } from "./reader_gone.js";

interface EventsOptions {
  follow?: boolean;
  task?: string;
  since?: string;
  lines?: number;
}

export function eventsCommand(): Command {
  return new Command("events")
    .description("print the event stream; --follow keeps printing as runners append")
    .option("--follow", "keep printing new events until interrupted; with --task, until that task has finished")
    .option("--task <id>", "only this task's events (an unknown task is an error, exit 2, unless --follow waits for it)")
    .option("--since <when>", "only events from this time on: ISO-8601 (2026-01-31T09:00Z) or an age (30s, 10m, 2h, 1d)", sinceInstant)
    .option("-n, --lines <n>", "start with only the last N events", wholeNumber)
    .action(async (options: EventsOptions, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      if (options.task !== undefined && !(await isKnownTask(workspace, options.task))) {
        if (!options.follow) throw new SophiaError("task_not_found", `no task "${options.task}" in ${workspace.dir}, and no events for it (\`sophia-cli list\` shows the tasks)`);
        process.stderr.write(`sophia-cli: no task "${options.task}" yet; waiting for its events\n`);
      }
      // Following one task ends with it, as `wait` does: a task that has finished already prints its events and ends.
      const untilItEnds = options.follow && options.task !== undefined ? options.task : null;
      const follow = options.follow === true && !(untilItEnds !== null && (await hasFinished(workspace, untilItEnds)));
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop).once("SIGTERM", stop);
      const stream = workspace.followEvents({
        task: options.task,
        since: options.since,
        last: options.lines,
        follow,
        signal: controller.signal,
        // Following, each is reported as it comes; otherwise once, with the count, at the end.
        onUnreadable: (line) => (options.follow ? reportSkipped([line], json) : skipped.push(line)),
      });
      const skipped: UnreadableLine[] = [];
      // Nothing may be written for hours: a reader that leaves meanwhile (`| head -1`) ends the follow now.
      const stopWatching = follow ? whenStdoutReaderLeaves(resolveSettings().python, () => process.exit(EXIT.ok)) : () => undefined;
      for await (const event of stream) {
        print(format(event, json));
        if (untilItEnds !== null && ENDINGS.has(event.type) && (await hasFinished(workspace, untilItEnds))) break;
      }
      stopWatching();
      if (skipped.length > 0) reportSkipped(skipped, json);
    });
}

type UnreadableLine = Parameters<NonNullable<FollowOptions["onUnreadable"]>>[0];

/** At most this many lines are named on a terminal; the count covers them all. */
const NAMED_LINES = 5;

function reportSkipped(skipped: UnreadableLine[], json: boolean): void {
  if (json) {
    process.stderr.write(`${JSON.stringify({ skipped_lines: skipped.length, lines: skipped })}\n`);
    return;
  }
  const named = skipped.slice(0, NAMED_LINES).map(({ file, line, error }) => `${file}:${line} (${error})`);
  const more = skipped.length > NAMED_LINES ? `, and ${skipped.length - NAMED_LINES} more` : "";
  const count = skipped.length === 1 ? "1 line that is" : `${skipped.length} lines that are`;
  process.stderr.write(`sophia-cli: skipped ${count} not an event: ${named.join("; ")}${more}\n`);
}

const ENDINGS = new Set(["task.completed", "task.failed", "task.canceled"]);

/** By its task file (a retry may queue it again at once); a task not there yet has not. */
async function hasFinished(workspace: SophiaWorkspace, taskId: string): Promise<boolean> {
  try {
    return isFinished((await workspace.get(taskId)).status);
  } catch (error) {
    if (isSophiaError(error, "task_not_found")) return false;
    throw error;
  }
}

/** A task that has neither a task file nor any event is a typo, not an empty stream. */
async function isKnownTask(workspace: SophiaWorkspace, taskId: string): Promise<boolean> {
  try {
    await workspace.get(taskId);
    return true;
  } catch (error) {
    if (!isSophiaError(error, "task_not_found")) throw error;
    for await (const _event of workspace.followEvents({ task: taskId, follow: false })) return true; // its file is gone, its events are not
    return false;
  }
}

function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

function format(event: SophiaEvent, json: boolean): string {
  if (json) return JSON.stringify(event);
  const { ts, type, task_id, payload } = event;
  return `${ts} ${type.padEnd(17)} ${task_id} ${JSON.stringify(payload)}`;
}

const AGE = /^(\d+(?:\.\d+)?)(s|m|h|d)$/;
const UNIT_MS = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

function sinceInstant(value: string): string {
  const age = AGE.exec(value.trim());
  if (age) return new Date(Date.now() - Number(age[1]) * UNIT_MS[age[2] as keyof typeof UNIT_MS]).toISOString();
  const time = Date.parse(value);
  if (Number.isNaN(time)) throw new InvalidArgumentError("not a time: use ISO-8601 (2026-01-31T09:00Z) or an age (30s, 10m, 2h, 1d)");
  return new Date(time).toISOString();
}

function wholeNumber(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 0) throw new InvalidArgumentError("must be a whole number");
  return parsed;
}
