/**
 * The workspace layout and path rules.
 *
 *   <root>/<workspace>/tasks/    task files (owned by TaskStore)
 *   <root>/<workspace>/events/   NDJSON event stream (owned by EventWriter)
 *   <root>/<workspace>/outputs/  artifacts; outputs/_tmp/<task_id>/ holds a task's intermediates
 *   <root>/<workspace>/models/   optional local models, one directory per model name
 *
 * Spec decision: relative paths in a task resolve against <root>, the folder that contains the
 * workspace folder, as in the spec's example (`workspace/inbox/meeting_audio.mp3`).
 */
import { constants, realpathSync } from "node:fs";
import { createHash } from "node:crypto";
import { access, stat } from "node:fs/promises";
import path from "node:path";
import { SophiaError } from "../../errors.js";
import { writeFailure } from "../../fs_errors.js";

export class Workspace {
  readonly dir: string;
  readonly root: string;
  readonly tasksDir: string;
  readonly eventsDir: string;
  readonly outputsDir: string;
  readonly modelsDir: string;
  /** One file per watching runner (runner/presence.ts). */
  readonly runnersDir: string;

  constructor(dir: string) {
    this.dir = path.resolve(dir);
    this.root = path.dirname(this.dir);
    this.tasksDir = path.join(this.dir, "tasks");
    this.eventsDir = path.join(this.dir, "events");
    this.outputsDir = path.join(this.dir, "outputs");
    this.modelsDir = path.join(this.dir, "models");
    this.runnersDir = path.join(this.dir, "runners");
  }

  tmpDir(taskId: string): string {
    return path.join(this.outputsDir, "_tmp", taskId);
  }

  /** An input path from a task file, made absolute. */
  resolveInput(p: string): string {
    return path.resolve(this.root, p);
  }

  /**
   * An output path from a task file, made absolute, refused unless it lies inside the workspace or
   * the task allows outputs outside it (`output.outside_workspace`).
   * Symbolic links are followed for the part of the path that exists, so a link cannot lead outside.
   */
  resolveOutput(p: string, field: string, { outsideAllowed = false }: { outsideAllowed?: boolean } = {}): string {
    const absolute = path.resolve(this.root, p);
    if (outsideAllowed) return absolute;
    const real = realPath(absolute);
    const inside = isInside(realPath(this.dir), real);
    if (!inside) {
      throw new SophiaError(
        "output_outside_workspace",
        `${field} "${p}" resolves to ${real}, outside the workspace ${this.dir}: outputs must be written inside it (or the task must say "output": {"outside_workspace": true})`,
        { details: { field, path: p, resolved: real, workspace: this.dir } },
      );
    }
    return absolute;
  }

  /**
   * The folders the workspace keeps for itself, by what they hold: no output may be written into
   * them (a subtitle file must never replace a task file, a lock, an event log, a model or an intermediate).
   */
  reservedFolders(): { dir: string; holds: string }[] {
    return [
      { dir: this.tasksDir, holds: "task files, their locks and leases" },
      { dir: this.eventsDir, holds: "the event stream" },
      { dir: path.join(this.outputsDir, "_tmp"), holds: "the runner's intermediates" },
      { dir: this.modelsDir, holds: "the engine's models" },
      { dir: this.runnersDir, holds: "the watching runners' presence files" },
    ];
  }

  /** A path as the task file and events show it: relative to <root> when inside it. */
  display(absolute: string): string {
    return isInside(this.root, absolute) ? path.relative(this.root, absolute) : absolute;
  }

  /**
   * Default output paths, unique per task so that two tasks on one media never share a file:
   * outputs/subtitles/raw/<media stem>.<task_id>.raw.srt and outputs/subtitles/refined/<media stem>.<task_id>.refined.srt.
   */
  defaultOutputs(media: string, taskId: string): { raw_srt: string; refined_srt: string } {
    const stem = fittingStem(path.basename(media, path.extname(media)), taskId);
    const base = path.join(path.basename(this.dir), "outputs", "subtitles");
    return {
      raw_srt: path.join(base, "raw", `${stem}.${taskId}.raw.srt`),
      refined_srt: path.join(base, "refined", `${stem}.${taskId}.refined.srt`),
    };
  }
}

/**
 * The longest file name an output may have, in bytes: NAME_MAX (255 on every common filesystem)
 * less room for the suffix a temporary file of its atomic write adds.
 */
export const OUTPUT_NAME_MAX_BYTES = 255 - 32;

/** The longest suffix Sophia gives a default output after its stem and task id: `.refined.json`. */
const LONGEST_DEFAULT_SUFFIX = ".refined.json";

/**
 * A media name's stem as the default outputs use it: whole when `<stem>.<task id>.refined.json`
 * fits in OUTPUT_NAME_MAX_BYTES, otherwise cut at a character boundary and followed by `~` and 8
 * hex digits of its hash, so that two long names that start alike still get outputs of their own,
 * and the same media always gets the same names.
 */
export function fittingStem(stem: string, taskId: string): string {
  const room = OUTPUT_NAME_MAX_BYTES - Buffer.byteLength(`.${taskId}${LONGEST_DEFAULT_SUFFIX}`);
  if (Buffer.byteLength(stem) <= room) return stem;
  const tag = `~${createHash("sha256").update(stem).digest("hex").slice(0, 8)}`;
  let cut = "";
  for (const character of stem) {
    if (Buffer.byteLength(cut + character) > room - tag.length) break;
    cut += character;
  }
  return `${cut}${tag}`;
}

export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === "" || (!relative.startsWith("..") && !path.isAbsolute(relative));
}

/**
 * The path the kernel will reach: symbolic links resolved for the part that exists, the rest (a file
 * or folders not made yet) appended as written, so a link anywhere on the way is seen through.
 */
export function realPath(absolute: string): string {
  let existing = absolute;
  const rest: string[] = [];
  for (;;) {
    try {
      // The native call: one realpath(3), where the JS one lstats each component (a start resolves a few paths).
      return path.join(realpathSync.native(existing), ...rest.reverse());
    } catch {
      const parent = path.dirname(existing);
      if (parent === existing) return absolute;
      rest.push(path.basename(existing));
      existing = parent;
    }
  }
}

/**
 * Refuses a workspace path that is a file, or (unless the command creates it, as `submit` does)
 * that does not exist: a typo in --workspace must not read as "no tasks".
 */
export async function assertWorkspaceFolder(workspace: Workspace, options: { mayCreate: boolean }): Promise<void> {
  const info = await stat(workspace.dir).catch((error: NodeJS.ErrnoException) => {
    if (error.code === "ENOENT") return null;
    if (error.code === "ENOTDIR") return "below_a_file" as const;
    throw error;
  });
  if (info === null) {
    if (options.mayCreate) return;
    throw new SophiaError("workspace_missing", `workspace ${workspace.dir} does not exist: check --workspace (or $SOPHIA_WORKSPACE), or submit a task there to create it`, {
      details: { workspace: workspace.dir },
    });
  }
  if (info === "below_a_file" || !info.isDirectory()) {
    throw new SophiaError("workspace_not_a_folder", `workspace ${workspace.dir} is not a folder: point --workspace at the folder that holds tasks/`, {
      details: { workspace: workspace.dir },
    });
  }
}

/**
 * Refuses, before any claim, a workspace a runner could not record anything in: a read-only or
 * forbidden tasks/ or events/ would otherwise make every task "skipped" and the run look fine.
 */
export async function assertWorkspaceWritable(workspace: Workspace): Promise<void> {
  for (const dir of [workspace.tasksDir, workspace.eventsDir]) {
    const target = await nearestExisting(dir);
    await access(target, constants.W_OK).catch((error: unknown) => {
      throw writeFailure(error, `write in ${target}`);
    });
  }
}

async function nearestExisting(dir: string): Promise<string> {
  for (let current = dir; ; current = path.dirname(current)) {
    if ((await stat(current).catch(() => null)) !== null || path.dirname(current) === current) return current;
  }
}
