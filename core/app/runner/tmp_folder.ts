/**
 * A task's scratch folder, `outputs/_tmp/<task_id>/`, made afresh by the runner before the first
 * stage runs. Its path is predictable, so it is made exclusively: `outputs/_tmp` must be a real
 * folder inside the workspace, and `<task_id>` is removed first only when it is a real folder (what an
 * earlier attempt of this task left, kept for debugging or by a kill; removing it follows no link
 * inside), then made with a plain mkdir that fails if anything took the name meanwhile. A link or a
 * file there is not ours: the task fails, naming it, and nothing is written through it.
 */
import { lstatSync, mkdirSync, rmSync } from "node:fs";
import path from "node:path";
import { SophiaError } from "../errors.js";
import { writeFailure } from "../fs_errors.js";
import { isInside, realPath, type Workspace } from "../task/model/workspace.js";

export function makeTmpFolder(workspace: Workspace, taskId: string): void {
  const dir = workspace.tmpDir(taskId);
  const parent = path.dirname(dir);
  try {
    mkdirSync(parent, { recursive: true });
    assertRealFolder(workspace, parent);
    if (!isInside(realPath(workspace.dir), realPath(parent))) throw notOurs(workspace, parent, "outside the workspace (a folder on its way is a link)");
    const info = lstatSync(dir, { throwIfNoEntry: false });
    if (info?.isDirectory()) rmSync(dir, { recursive: true, force: true });
    else if (info) throw notOurs(workspace, dir, info.isSymbolicLink() ? "a symbolic link" : "not a folder");
    mkdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "EEXIST") throw notOurs(workspace, dir, "made by another process meanwhile");
    throw writeFailure(error, `make ${dir}`);
  }
}

/** Refuses a link or a file where the scratch folders' folder should be. */
function assertRealFolder(workspace: Workspace, folder: string): void {
  const info = lstatSync(folder);
  if (!info.isDirectory()) throw notOurs(workspace, folder, info.isSymbolicLink() ? "a symbolic link" : "not a folder");
}

function notOurs(workspace: Workspace, folder: string, what: string): SophiaError {
  return new SophiaError("output_reserved", `${workspace.display(folder)} is ${what}: the runner makes its intermediates there itself; remove it and retry the task`, {
    details: { path: folder },
  });
}
