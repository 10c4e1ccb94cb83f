/**
 * Integration tests drive `bin/sophia-cli` over `dist/`: a `dist/` older than `core/` would test the
 * last build, not the code in front of you. Run on its own, an integration file refuses that with one
 * line instead (`./scripts/test` builds first).
 */
import { readdirSync, statSync } from "node:fs";
import path from "node:path";

/** What the build makes of each source under core/: compiled modules, and the copied assets. */
function builtFrom(source: string): string | null {
  if (source.endsWith(".d.ts")) return null;
  if (source.endsWith(".ts")) return source.replace(/\.ts$/, ".js");
  if (/\.(py|txt)$/.test(source)) return source;
  return null;
}

function* filesUnder(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "__pycache__") yield* filesUnder(file);
    else if (entry.isFile()) yield file;
  }
}

/** The first source under `core/` whose build output is missing or older than it, or null when `dist/` is current. */
export function staleBuildOf(project: string): string | null {
  for (const source of filesUnder(path.join(project, "core"))) {
    const built = builtFrom(path.relative(project, source));
    if (built === null) continue;
    const output = statSync(path.join(project, "dist", built), { throwIfNoEntry: false });
    if (!output || output.mtimeMs < statSync(source).mtimeMs) return path.relative(project, source);
  }
  return null;
}

let checked = false;

/** Exits this test process with one line when `dist/` is older than `core/`. */
export function refuseStaleBuild(project: string): void {
  if (checked) return;
  checked = true;
  const stale = staleBuildOf(project);
  if (stale === null) return;
  process.stderr.write(`dist/ is older than ${stale}: run \`npm run build\` first (integration tests drive bin/sophia-cli over dist/)\n`);
  process.exit(1);
}
