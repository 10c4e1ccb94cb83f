/**
 * Sophia as an app installs it, by each route the README offers, into a fresh temporary project
 * (its dependencies linked from this checkout's node_modules, so the install runs offline):
 * - the tarball: `npm pack` of the built package, then imported by name from ES modules and from
 *   CommonJS, type-checked against the shipped declarations (nodenext, and commonjs without
 *   skipLibCheck), used to run a task end to end with the real engine, and its bin used to prepare
 *   a Python venv. The worker script must come from the package's dist/: the sources are not in it.
 * - git: `npm install git+file://<this checkout>#<HEAD>`: npm clones the commit, installs its dev
 *   dependencies and runs its `prepare` (the build), so this is also `npm pack` in a fresh clone.
 *   It installs the committed HEAD: uncommitted changes are not in it.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { resolveSettings } from "../../core/app/config.js";
import { PROJECT, SENTENCE, VENV_PYTHON, makeWorkspace, srtText, speech, wer, MAX_WER, type TestWorkspace } from "../support/harness.js";

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

/** What a CommonJS main process (many Electron apps) does: require() on Node ≥ 20.19, import() on any. */
const CJS_CONSUMER = `
const required = require("sophia");
import("sophia").then(async (imported) => {
  const workspace = required.openWorkspace({ workspace: process.argv[2] });
  const tasks = await workspace.list();
  process.stdout.write(JSON.stringify({ required: typeof required.openWorkspace, imported: typeof imported.openWorkspace, same: required.openWorkspace === imported.openWorkspace, tasks: tasks.length }));
});
`;

/**
 * An empty project, then `spec` installed into it. `offline`: the package's dependencies are linked
 * in from this checkout first and npm installs offline, which needs --ignore-scripts (npm would run
 * a linked folder's own prepare). Otherwise npm installs them, from its cache where it can.
 */
function consumerWith(spec: (dir: string) => string, { offline }: { offline: boolean }): string {
  const consumer = mkdtempSync(path.join(tmpdir(), "sophia-consumer-"));
  writeFileSync(path.join(consumer, "package.json"), JSON.stringify({ name: "consumer", private: true, type: "module" }));
  mkdirSync(path.join(consumer, "node_modules"));
  if (offline) Object.keys(PACKAGE.dependencies).forEach((name) => linkOurs(consumer, name));
  const npmFlags = offline ? ["--offline", "--ignore-scripts"] : ["--prefer-offline"];
  execFileSync("npm", ["install", "--no-audit", "--no-fund", "--no-save", ...npmFlags, spec(consumer)], { cwd: consumer, stdio: "pipe", timeout: 600_000 });
  return consumer;
}

function linkOurs(consumer: string, name: string): void {
  const target = path.join(consumer, "node_modules", name);
  mkdirSync(path.dirname(target), { recursive: true });
  symlinkSync(path.join(realpathSync(path.join(PROJECT, "node_modules")), name), target);
}

function runNode(consumer: string, file: string, text: string, args: string[]): string {
  writeFileSync(path.join(consumer, file), text);
  return execFileSync(process.execPath, [file, ...args], { cwd: consumer, encoding: "utf8", timeout: 60_000 });
}

describe("package: the packed tarball", { timeout: 900_000 }, () => {
  let ws: TestWorkspace;
  let consumer: string;

  before(() => {
    ws = makeWorkspace();
    // dist/ is built already (setup); --ignore-scripts keeps `prepare` from building it again.
    consumer = consumerWith((dir) => {
      const packed = execFileSync("npm", ["pack", "--silent", "--ignore-scripts", "--pack-destination", dir], { cwd: PROJECT, encoding: "utf8" }).trim().split("\n").pop() as string;
      return path.join(dir, packed);
    }, { offline: true });
    // The app's own dev tools, for the type check (npm prunes what no package.json asks for, so after the install).
    ["typescript", "@types/node"].forEach((name) => linkOurs(consumer, name));
  });
  after(() => {
    rmSync(ws.root, { recursive: true, force: true });
    rmSync(consumer, { recursive: true, force: true });
  });

  test("the tarball ships the built library, its declarations and the Python worker, not the sources", () => {
    const installed = path.join(consumer, "node_modules", "sophia");
    assert.equal((JSON.parse(readFileSync(path.join(installed, "package.json"), "utf8")) as { version: string }).version, PACKAGE.version);
    const files = ["dist/core/app/index.js", "dist/core/app/index.d.ts", "dist/core/app/interfaces.d.ts", "dist/core/app/engines/faster_whisper/worker.py", "dist/core/app/engines/faster_whisper/setup_venv.py", "bin/sophia-cli", "LICENSE"];
    for (const file of files) {
      assert.ok(existsSync(path.join(installed, file)), file);
    }
    assert.ok(!existsSync(path.join(installed, "core")), "the TypeScript sources stay out of the package");
  });

  test("a CommonJS app loads it with require() and with import()", () => {
    const report = JSON.parse(runNode(consumer, "main.cjs", CJS_CONSUMER, [ws.dir])) as Record<string, unknown>;
    assert.deepEqual(report, { required: "function", imported: "function", same: true, tasks: 0 });
  });

  test("an app imports it by name and runs a task end to end, with progress from events", { timeout: 180_000 }, () => {
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

  test("its declarations type-check a TypeScript consumer", { timeout: 120_000 }, () => {
    writeFileSync(path.join(consumer, "typed.ts"), TYPED_CONSUMER);
    const tsc = path.join(consumer, "node_modules", "typescript", "bin", "tsc");
    execFileSync(process.execPath, [tsc, "--noEmit", "--strict", "--module", "nodenext", "--moduleResolution", "nodenext", "--target", "es2022", "--types", "node", "typed.ts"], {
      cwd: consumer,
      stdio: "pipe",
    });
  });

  test("without a Python, submit says to set the python option or run setup-python, exit 6", { timeout: 60_000 }, () => {
    const media = speech(ws, "nopython.wav", SENTENCE);
    const run = installedCli(consumer, ["--workspace", ws.dir, "submit", media], { SOPHIA_PYTHON: "" });
    assert.equal(run.status, 6, run.stderr);
    assert.match(run.stderr, /`python` option/);
    assert.match(run.stderr, /npx sophia-cli setup-python <venv>/);
  });

  test("its setup-python prepares a venv: the requirements in it and base assembled into it", { timeout: 300_000 }, () => {
    // A new venv whose site-packages reach the checkout's (a .pth line), so pip finds every requirement
    // installed and nothing is downloaded; the base model is joined into this venv's own models/.
    const venv = path.join(ws.root, "app-python");
    execFileSync("python3", ["-m", "venv", "--without-pip", venv]);
    const sitePackages = (python: string) => execFileSync(python, ["-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], { encoding: "utf8" }).trim();
    writeFileSync(path.join(sitePackages(path.join(venv, "bin", "python")), "checkout.pth"), `${sitePackages(VENV_PYTHON)}\n`);
    const setup = installedCli(consumer, ["setup-python", venv]);
    assert.equal(setup.status, 0, setup.stderr);
    const python = path.join(venv, "bin", "python");
    assert.equal(setup.stdout.trim(), python);
    const models = installedCli(consumer, ["--json", "--workspace", ws.dir, "models"], { SOPHIA_PYTHON: python });
    assert.equal(models.status, 0, models.stderr);
    const base = (JSON.parse(models.stdout) as { name: string; path: string | null }[]).find((model) => model.name === "base");
    assert.equal(base?.path, path.join(venv, "models", "base"));
  });
});

describe("package: the git route (npm install git+file://…, which builds in a fresh clone)", { timeout: 900_000 }, () => {
  const isCheckout = existsSync(path.join(PROJECT, ".git"));
  let consumer: string | null = null;

  after(() => {
    if (consumer) rmSync(consumer, { recursive: true, force: true });
  });

  test("installs with dist/ built, and an app imports it from ES modules and CommonJS", { skip: !isCheckout && "not a git checkout", timeout: 900_000 }, () => {
    const head = execFileSync("git", ["rev-parse", "HEAD"], { cwd: PROJECT, encoding: "utf8" }).trim();
    consumer = consumerWith(() => `git+file://${PROJECT}#${head}`, { offline: false });
    const installed = path.join(consumer, "node_modules", "sophia");
    assert.ok(existsSync(path.join(installed, "dist", "core", "app", "index.js")), "prepare built dist/");
    assert.ok(existsSync(path.join(installed, "dist", "core", "app", "engines", "faster_whisper", "worker.py")));
    assert.ok(existsSync(path.join(installed, "LICENSE")));
    const ws = path.join(consumer, "workspace");
    const esm = runNode(consumer, "main.mjs", `import { openWorkspace, VERSION } from "sophia";\nprocess.stdout.write(JSON.stringify({ version: VERSION, tasks: (await openWorkspace({ workspace: process.argv[2] }).list()).length }));\n`, [ws]);
    assert.deepEqual(JSON.parse(esm), { version: PACKAGE.version, tasks: 0 });
    const cjs = JSON.parse(runNode(consumer, "main.cjs", CJS_CONSUMER, [ws])) as Record<string, unknown>;
    assert.deepEqual(cjs, { required: "function", imported: "function", same: true, tasks: 0 });
    assert.equal(installedCli(consumer, ["--version"]).stdout.trim(), PACKAGE.version);
  });
});

function installedCli(consumer: string, args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(path.join(consumer, "node_modules", ".bin", "sophia-cli"), args, { cwd: consumer, encoding: "utf8", env: { ...process.env, HF_HUB_OFFLINE: "1", ...env }, timeout: 240_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}
