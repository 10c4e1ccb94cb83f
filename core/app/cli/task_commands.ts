/** `submit`, `list`, `show`, `cancel`, `retry`: thin shells over the library (open_workspace.ts). */
import { Command, Option } from "commander";
import type { TaskInfo, TaskListEntry } from "../interfaces.js";
import { TASK_STATUSES, type TaskStatus } from "../task/schema.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";

export function submitCommand(): Command {
  return new Command("submit")
    .description("write a queued task for a media file (and its `task.created` event)")
    .argument("<media>", "audio or video file")
    .option("--script <file>", "UTF-8 text of what is said: refine uses its words, exactly")
    .option("--model <name|dir>", "faster_whisper model name or directory (default: tiny.en, bundled)")
    .option("--id <task_id>", "task id (default: from the media name plus a random suffix)")
    .option("--run-id <run_id>", "run id carried by every event (default: random)")
    .option("--no-refine", "pipeline [asr] only")
    .action(async (media: string, options: { script?: string; model?: string; id?: string; runId?: string; refine: boolean }, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const info = await workspace.submit({ media, script: options.script ?? null, model: options.model, taskId: options.id, runId: options.runId, refine: options.refine });
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`${info.id}\n`);
    });
}

export function listCommand(): Command {
  return new Command("list")
    .description("the tasks in the workspace, oldest first")
    .addOption(new Option("--status <status>", "only tasks with this status").choices(TASK_STATUSES))
    .action(async (options: { status?: TaskStatus }, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const rows = (await workspace.list()).filter((entry) => !options.status || (entry.valid && entry.status === options.status));
      if (json) {
        printJson(rows.map((entry) => (entry.valid ? { file: entry.file, task: entry.raw } : { file: entry.file, error: { code: entry.error.code, message: entry.error.message } })));
        return;
      }
      process.stdout.write(listTable(rows));
    });
}

export function showCommand(): Command {
  return new Command("show")
    .description("one task file, as stored")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const info = await workspace.get(id);
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`${info.file}\n${JSON.stringify(info.raw, null, 2)}\n`);
    });
}

export function cancelCommand(): Command {
  return new Command("cancel")
    .description("cancel a queued or running task; a running one stops and its partial outputs are removed")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const result = await workspace.cancel(id);
      if (json) printJson({ task_id: id, previous_status: result.previous, stopped: result.stopped });
      else if (!result.stopped) process.stdout.write(`canceled ${id}; its runner has not let go yet (it will stop at its next check)\n`);
      else process.stdout.write(`canceled ${id} (was ${result.previous})\n`);
    });
}

export function retryCommand(): Command {
  return new Command("retry")
    .description("queue a failed or canceled task again")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const info = await workspace.retry(id);
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`queued ${id} again\n`);
    });
}

function listTable(rows: TaskListEntry[]): string {
  if (rows.length === 0) return "no tasks\n";
  const lines = rows.map((entry) => (entry.valid ? [entry.id, entry.status, entry.task.created_at, noteOf(entry)] : [entry.id, "invalid", "", entry.error.message]));
  return table([["TASK", "STATUS", "CREATED", "DETAIL"], ...lines]);
}

/** Running: the stage and how far; failed: why; otherwise the media. */
function noteOf(info: TaskInfo): string {
  if (info.status === "running") return progressText(info);
  if (info.status === "failed" && info.task.error) return info.task.error.message;
  return info.task.input.media;
}

export function progressText(info: TaskInfo): string {
  return info.progress ? `${info.progress.stage} ${Math.floor(info.progress.fraction * 100)}% ${info.progress.msg}`.trimEnd() : "starting";
}

/** Columns padded to their widest cell; the last column is left as it is. */
function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, column) => Math.max(...rows.map((row) => (row[column] ?? "").length))) ?? [];
  return rows.map((row) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column] ?? 0))).join("  ").trimEnd()).join("\n") + "\n";
}
