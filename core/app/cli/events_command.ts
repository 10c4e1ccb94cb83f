/** `sophia-cli events [--follow] [--task <id>]`: the event stream, as NDJSON (--json) or one line per event. */
import { Command } from "commander";
import { EventLog, type EventLine } from "../task/event_log.js";
import { openContext, type GlobalOptions } from "./context.js";

export function eventsCommand(): Command {
  return new Command("events")
    .description("print the event stream; --follow keeps printing as runners append")
    .option("--follow", "keep printing new events until interrupted")
    .option("--task <id>", "only this task's events")
    .action(async (options: { follow?: boolean; task?: string }, command: Command) => {
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const log = new EventLog(context.workspace.eventsDir, { taskId: options.task });
      const print = (line: EventLine) => process.stdout.write(`${format(line, context.json)}\n`);
      if (!options.follow) {
        (await log.readNew()).forEach(print);
        return;
      }
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once("SIGINT", stop).once("SIGTERM", stop);
      await log.follow(print, controller.signal);
    });
}

function format(line: EventLine, json: boolean): string {
  if (!line.event) return json ? JSON.stringify({ unreadable: `${line.file}:${line.line}`, error: line.error }) : `(unreadable line ${line.file}:${line.line}: ${line.error})`;
  if (json) return JSON.stringify(line.event);
  const { ts, type, task_id, payload } = line.event;
  return `${ts} ${type.padEnd(17)} ${task_id} ${JSON.stringify(payload)}`;
}
