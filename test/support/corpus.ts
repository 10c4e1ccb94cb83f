/**
 * The human readings with their texts (shared/corpus, see its README), for tests and benchmarks.
 * $SOPHIA_CORPUS, else the first `shared/corpus` in a folder above the checkout: CI clones the
 * project into a folder of its own with shared/ beside it, so no absolute path may be assumed.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

function findCorpus(): string {
  if (process.env.SOPHIA_CORPUS) return process.env.SOPHIA_CORPUS;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let parent = path.dirname(dir); parent !== dir; dir = parent, parent = path.dirname(dir)) {
    const candidate = path.join(parent, "shared", "corpus");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no shared/corpus found in a folder above the project: set SOPHIA_CORPUS to the corpus folder");
}

export const CORPUS = findCorpus();
