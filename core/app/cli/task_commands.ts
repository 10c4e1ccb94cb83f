/** `submit`, `list`, `show`, `cancel`, `retry`: thin shells over core/app/task/control.ts and the store. */
import { Command, Option } from "commander";
import { cancelTask, retryTask, submitTask } from "../task/control.js";
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
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const stored = await submitTask(context.store, context.events, {
        media,
        script: options.script ?? null,
        model: options.model,
        taskId: options.id,
        runId: options.runId,
        refine: options.refine,
      });
      if (context.json) printJson({ file: stored.file, task: stored.raw });
      else process.stdout.write(`${stored.task.task_id}\n`);
    });
}

export function listCommand(): Command {
  return new Command("list")
    .description("the tasks in the workspace, oldest first")
    .addOption(new Option("--status <status>", "only tasks with this status").choices(TASK_STATUSES))
    .action(async (options: { status?: TaskStatus }, command: Command) => {
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const entries = await context.store.list();
      const rows = entries.filter((entry) => !options.status || (entry.ok && entry.stored.task.status === options.status));
      if (context.json) {
        printJson(rows.map((entry) => (entry.ok ? { file: entry.file, task: entry.stored.raw } : { file: entry.file, error: { code: entry.error.code, message: entry.error.message } })));
        return;
      }
      for (const entry of rows) {
        if (!entry.ok) {
          process.stdout.write(`${entry.idFromName.padEnd(32)} ${"invalid".padEnd(9)} ${entry.error.message}\n`);
          continue;
        }
        const { task } = entry.stored;
        const note = task.status === "failed" && task.error ? task.error.message : task.input.media;
        process.stdout.write(`${task.task_id.padEnd(32)} ${task.status.padEnd(9)} ${task.created_at}  ${note}\n`);
      }
    });
}

export function showCommand(): Command {
  return new Command("show")
    .description("one task file, as stored")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const stored = await context.store.find(id);
      if (context.json) printJson({ file: stored.file, task: stored.raw });
      else process.stdout.write(`${stored.file}\n${JSON.stringify(stored.raw, null, 2)}\n`);
    });
}

export function cancelCommand(): Command {
  return new Command("cancel")
    .description("cancel a queued or running task; a running one stops and its partial outputs are removed")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const result = await cancelTask(context.store, context.events, id);
      if (context.json) printJson({ task_id: id, previous_status: result.previous, stopped: result.stopped });
      else if (!result.stopped) process.stdout.write(`canceled ${id}; its runner has not let go yet (it will stop at its next check)\n`);
      else process.stdout.write(`canceled ${id} (was ${result.previous})\n`);
    });
}

export function retryCommand(): Command {
  return new Command("retry")
    .description("queue a failed or canceled task again")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const context = openContext(command.optsWithGlobals<GlobalOptions>());
      const stored = await retryTask(context.store, context.events, id);
      if (context.json) printJson({ file: stored.file, task: stored.raw });
      else process.stdout.write(`queued ${id} again\n`);
    });
}
