/**
 * The folder of Sophia's own package.json, found from this module's location, so the CLI works the
 * same run from source (tsx) or from dist/ and from any current directory.
 */
import { existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

let cached: string | null = null;

export function projectRoot(): string {
  if (cached) return cached;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = path.join(dir, "package.json");
    if (existsSync(manifest) && (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "sophia") return (cached = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error("cannot find Sophia's package.json above " + fileURLToPath(import.meta.url));
    dir = parent;
  }
}
