/**
 * Sophia as an app installs it: `npm pack` of the built package, installed into a separate
 * temporary project (offline: its dependencies are linked from this checkout's node_modules), then
 * imported by name, type-checked against the shipped declarations, and used to run a task end to
 * end with the real engine. The worker script must come from the package's dist/: the source tree
 * is not in the tarball.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { resolveSettings } from "../../core/app/config.js";
import { PROJECT, SENTENCE, makeWorkspace, srtText, speech, wer, MAX_WER, type TestWorkspace } from "../support/harness.js";

const PACKAGE = JSON.parse(readFileSync(path.join(PROJECT, "package.json"), "utf8")) as { version: string; dependencies: Record<string, string> };

/** What an Electron main process would do: submit, run, show progress from events, read the result. */
const CONSUMER = `
import { openWorkspace, isSophiaError } from "sophia";

const [workspaceDir, python, media] = process.argv.slice(2);
const workspace = openWorkspace({ workspace: workspaceDir, python });
const task = await workspace.submit({ media, model: "tiny.en" });

const followed = [];
const stopFollowing = new AbortController();
const following = (async () => {
  for await (const event of workspace.followEvents({ task: task.id, signal: stopFollowing.signal })) followed.push(event.type);
})();

const progress = [];
const runner = workspace.startRunner({ task: task.id });
runner.on("event", (event) => {
  if (event.type === "stage.progress") progress.push([event.payload.stage, event.payload.progress]);
});
const results = await runner.done;
const finished = await workspace.get(task.id);
await new Promise((resolve) => setTimeout(resolve, 500)); // the follower polls every 200 ms
stopFollowing.abort();
await following;

let unknown = null;
await workspace.get("no_such_task").catch((error) => (unknown = isSophiaError(error, "task_not_found")));
process.stdout.write(JSON.stringify({ results, status: finished.status, followed, progress, unknown }));
`;

/** The same calls, type-checked against the package's own .d.ts files. */
const TYPED_CONSUMER = `
import { openWorkspace, type RunResult, type SophiaEvent, type TaskInfo } from "sophia";

const workspace = openWorkspace({ workspace: "ws" });
const info: Promise<TaskInfo> = workspace.submit({ media: "a.wav", refine: false });
const runner = workspace.startRunner({ concurrency: 2, watch: true });
runner.on("event", (event: SophiaEvent) => {
  if (event.type === "stage.progress") {
    const fraction: number = event.payload.progress;
    void fraction;
  }
});
const done: Promise<RunResult[]> = runner.done;
void info;
void done;
export {};
`;

describe("package", { timeout: 600_000 }, () => {
  let ws: TestWorkspace;
  let consumer: string;

  before(() => {
    ws = makeWorkspace();
    consumer = mkdtempSync(path.join(tmpdir(), "sophia-consumer-"));
    const packed = execFileSync("npm", ["pack", "--silent", "--pack-destination", consumer], { cwd: PROJECT, encoding: "utf8" }).trim().split("\n").pop() as string;
    writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
    // Offline: the package's dependencies come from this checkout, linked as npm would find them installed.
    const modules = path.join(consumer, "node_modules");
    mkdirSync(modules);
    const ours = realpathSync(path.join(PROJECT, "node_modules"));
    const link = (name: string) => symlinkSync(path.join(ours, name), path.join(modules, name));
    Object.keys(PACKAGE.dependencies).forEach(link);
    execFileSync("npm", ["install", "--offline", "--no-audit", "--no-fund", "--no-save", "--ignore-scripts", path.join(consumer, packed)], { cwd: consumer, stdio: "pipe" });
    // The app's own dev tools, for the type check (npm prunes what no package.json asks for, so after the install).
    mkdirSync(path.join(modules, "@types"));
    ["typescript", "@types/node"].forEach(link);
  });
  after(() => {
    rmSync(ws.root, { recursive: true, force: true });
    rmSync(consumer, { recursive: true, force: true });
  });

  test("the tarball ships the built library, its declarations and the Python worker, not the sources", () => {
    const installed = path.join(consumer, "node_modules", "sophia");
    assert.equal((JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { version: string }).version, PACKAGE.version);
    for (const file of ["dist/core/app/index.js", "dist/core/app/index.d.ts", "dist/core/app/interfaces.d.ts", "dist/core/app/engines/faster_whisper/worker.py", "bin/sophia-cli"]) {
      assert.ok(existsSync(path.join(installed, file)), file);
    }
    assert.ok(!existsSync(path.join(installed, "core")), "the TypeScript sources stay out of the package");
  });

  test("an app imports it by name and runs a task end to end, with progress from events", () => {
    const media = speech(ws, "talk.wav", SENTENCE);
    writeFileSync(path.join(consumer, "main.mjs"), CONSUMER);
    const output = execFileSync(process.execPath, ["main.mjs", ws.dir, resolveSettings().python, media], {
      cwd: consumer,
      encoding: "utf8",
      env: { ...process.env, HF_HUB_OFFLINE: "1", SOPHIA_PYTHON: "" },
      timeout: 120_000,
    });
    const report = JSON.parse(output) as {
      results: { outcome: string; artifacts: { kind: string; path: string }[] }[];
      status: string;
      followed: string[];
      progress: [string, number][];
      unknown: boolean;
    };
    assert.equal(report.status, "done");
    assert.deepEqual(report.results.map((result) => result.outcome), ["done"]);
    const refined = report.results[0]?.artifacts.find((artifact) => artifact.kind === "refined_srt");
    assert.ok(refined && path.isAbsolute(refined.path));
    assert.ok(wer(SENTENCE, srtText(readFileSync(refined.path, "utf8"))) <= MAX_WER);
    assert.deepEqual([report.followed[0], report.followed.at(-1)], ["task.created", "task.completed"]);
    assert.ok(report.progress.some(([stage, fraction]) => stage === "asr" && fraction === 1), JSON.stringify(report.progress));
    assert.equal(report.unknown, true);
  });

  test("its declarations type-check a TypeScript consumer", () => {
    writeFileSync(path.join(consumer, "typed.ts"), TYPED_CONSUMER);
    const tsc = path.join(consumer, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "typed.ts"], {
      cwd: consumer,
      stdio: "pipe",
    });
  });
});
