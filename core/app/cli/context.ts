/** What every command needs: the workspace from `--workspace` / SOPHIA_WORKSPACE / ./workspace, and its owners. */
import { resolveSettings } from "../config.js";
import { EventWriter, type EventListener } from "../task/events.js";
import { TaskStore } from "../task/store.js";
import { Workspace } from "../task/workspace.js";

export interface GlobalOptions {
  workspace?: string;
  json?: boolean;
}

export interface CliContext {
  workspace: Workspace;
  store: TaskStore;
  events: EventWriter;
  json: boolean;
}

export function openContext(options: GlobalOptions, listener?: EventListener): CliContext {
  const workspace = new Workspace(resolveSettings({ workspace: options.workspace }).workspace);
  return { workspace, store: new TaskStore(workspace), events: new EventWriter(workspace.eventsDir, listener), json: options.json === true };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
