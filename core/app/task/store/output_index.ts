/**
 * Which task files name a path of a given file name, as an output or as an input, built by the store from one list of the
 * task folder and then kept in step from the entries it reads (store.ts), so that the ownership check
 * (output_owners.ts) looks only at the few tasks that could own one of a starting task's outputs,
 * instead of resolving the outputs of the whole history, or even looking at it, at each start.
 *
 * An entry is the store's parsed task file (one object per version of the file's bytes: a file read
 * again with other bytes is a new object); it is indexed again only when that object changes, and
 * dropped when its file is gone.
 * It is built on the first check, not by every list: a one-shot `list` never needs it.
 * Paths are indexed as the task file spells them (declaredOutputs): the check resolves the links of
 * the few candidates itself, so the index is never the judge of a collision, only of who to ask.
 */
import path from "node:path";
import type { StoredTask, TaskEntry } from "../model/stored_task.js";
import { declaredInputs, declaredOutputs } from "../model/task_paths.js";
import { dropAbsent } from "./stamp_cache.js";
import type { Workspace } from "../model/workspace.js";

interface Indexed {
  stored: StoredTask;
  outputs: string[];
}

export class OutputIndex {
  /** task file name → its entry and its declared outputs */
  private readonly byFile = new Map<string, Indexed>();
  /** output file name (last path component) → the task file names that declare one */
  private readonly byBase = new Map<string, Set<string>>();

  constructor(private readonly workspace: Workspace) {}

  /** Brings the index in step with a list of the whole folder: each task file's name and its entry. */
  update(names: readonly string[], entries: readonly TaskEntry[]): void {
    dropAbsent(this.byFile, names, (name, gone) => this.remove(name, gone));
    names.forEach((name, i) => this.sync(name, entries[i] as TaskEntry));
  }

  /**
   * The same, from the entries read since the index was last in step (`changed`, by file name):
   * every other entry is the object the index holds already. Whether a file is gone shows in the
   * count: the index then holds one entry per readable file of `entries`, and more means some are gone.
   */
  apply(changed: ReadonlyMap<string, TaskEntry>, names?: readonly string[], entries?: readonly TaskEntry[]): void {
    for (const [name, entry] of changed) this.sync(name, entry);
    if (!names || !entries) return;
    let readable = 0;
    for (const entry of entries) if (entry.ok) readable++;
    if (readable !== this.byFile.size) dropAbsent(this.byFile, names, (name, gone) => this.remove(name, gone));
  }

  /** The task file names that name an output or an input whose file name is `base`. */
  declaring(base: string): ReadonlySet<string> {
    return this.byBase.get(base) ?? new Set();
  }

  /** An unreadable file declares nothing. */
  private sync(name: string, entry: TaskEntry): void {
    const stored = entry.ok ? entry.stored : null;
    const indexed = this.byFile.get(name);
    if (indexed?.stored === stored) return;
    if (indexed) this.remove(name, indexed);
    if (!stored) return;
    // Inputs too: an output must never land on an input of a task that has not finished (output_owners.ts).
    const outputs = [...declaredOutputs(stored.task, this.workspace), ...declaredInputs(stored.task, this.workspace).map((input) => input.path)];
    this.byFile.set(name, { stored, outputs });
    for (const output of outputs) {
      const base = path.basename(output);
      const names = this.byBase.get(base) ?? new Set<string>();
      names.add(name);
      this.byBase.set(base, names);
    }
  }

  /**
   * The tasks that name an output or input whose file name is `base` and whose folder leads, links
   * resolved (`realFolder`), to `realFolderOfOutput`: in task file name order, each with the
   * outputs it declares.
   */
  claimants(base: string, realFolderOfOutput: string, realFolder: (folder: string) => string): StoredTask[] {
    const names = [...(this.byBase.get(base) ?? [])].sort();
    return names.flatMap((name) => {
      const indexed = this.byFile.get(name) as Indexed;
      const declares = indexed.outputs.some((output) => path.basename(output) === base && realFolder(path.dirname(output)) === realFolderOfOutput);
      return declares ? [indexed.stored] : [];
    });
  }

  private remove(name: string, indexed: Indexed): void {
    this.byFile.delete(name);
    for (const output of indexed.outputs) {
      const base = path.basename(output);
      const names = this.byBase.get(base);
      names?.delete(name);
      if (names?.size === 0) this.byBase.delete(base);
    }
  }
}
