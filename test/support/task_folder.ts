/** What is in a task folder besides the store's own cache file (tasks/.sophia-task-cache.json), which may or may not be there. */
import { readdirSync } from "node:fs";
import { TASK_CACHE_FILE } from "../../core/app/task/store/summary_file.js";

export function taskFolder(dir: string): string[] {
  return readdirSync(dir).filter((name) => name !== TASK_CACHE_FILE);
}
