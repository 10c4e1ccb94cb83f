/** What every command needs: the workspace (the library's front door) and whether to print JSON. */
import { openWorkspace } from "../open_workspace.js";
import type { SophiaWorkspace } from "../interfaces.js";

export interface GlobalOptions {
  workspace?: string;
  json?: boolean;
}

export interface CliContext {
  workspace: SophiaWorkspace & { readonly exists: boolean };
  json: boolean;
}

export function openContext(options: GlobalOptions): CliContext {
  return { workspace: openWorkspace({ workspace: options.workspace }), json: options.json === true };
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
