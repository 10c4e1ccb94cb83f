/** `sophia-cli status`: how many tasks in each status, what runs where, and which runners are alive (pueue's `status`). */
import { Command } from "commander";
import type { WorkspaceStatus } from "../interfaces.js";
import { TASK_STATUSES } from "../task/model/task_status.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";
import { progressText } from "./task_commands.js";

export function statusCommand(): Command {
  return new Command("status")
    .description("tasks per status, the running ones and where they run, the runners alive")
    .action(async (_options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const status = await workspace.status();
      if (json) printJson(statusJson(status));
      else process.stdout.write(statusText(status));
    });
}

function statusJson(status: WorkspaceStatus): unknown {
  return {
    dir: status.dir,
    counts: status.counts,
    running: status.running.map((task) => ({ task_id: task.id, progress: task.progress, runner: task.runner, orphaned: task.orphaned })),
    runners: status.runners,
  };
}

function statusText(status: WorkspaceStatus): string {
  const counts = TASK_STATUSES.map((name) => `${name} ${status.counts[name]}`);
  if (status.counts.invalid > 0) counts.push(`invalid ${status.counts.invalid} (see sophia-cli list)`);
  const lines = [`workspace ${status.dir}`, counts.join(" · ")];
  for (const task of status.running) {
    const where = task.runner ? `on ${task.runner.host} pid ${task.runner.pid}` : "runner unknown";
    lines.push(`  ${task.id}  ${progressText(task)}  ${where}${task.orphaned ? " (its runner is gone: the next runner recovers it)" : ""}`);
  }
  lines.push(`runners alive: ${status.runners.length}`);
  for (const runner of status.runners) lines.push(`  ${runner.host} pid ${runner.pid} ${runner.tasks.length > 0 ? `running ${runner.tasks.join(", ")}` : "watching, idle"}`);
  return `${lines.join("\n")}\n`;
}
