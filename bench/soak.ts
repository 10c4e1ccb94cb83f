/**
 * Soak campaign: several `run --watch` runners on one workspace while faults are injected at random
 * moments, then the invariants checked and the counts printed. Outside the default test suite.
 *
 * Faults: kill -9 of a runner and of an engine worker, SIGSTOP of a runner past the lease (then
 * SIGCONT), cancel at random moments in every stage (queued, asr, refine), task files with a
 * duplicate task_id, and (as root, `--disk-full`) the workspace's disk filled for a moment; and
 * (issue 17) a running task's output swapped for a link at a random moment (to a file outside the
 * workspace, or to the day's event log), a task whose output is the input of another task not yet
 * finished, and one task id submitted three times at once (two library submits and a CLI one).
 * Tasks are mostly refine-only (quick) with some asr + refine on short espeak-ng speech (tiny.en).
 *
 * Invariants: every task file is in exactly one terminal state, or queued; each `done` task completed
 * exactly once and no other task ever completed; every output present belongs to a task and is a
 * complete SRT; no stray temporary file, `_tmp` folder, claim lock or lease; every event line parses;
 * no file a link pointed to was written through; an input of an unfinished task was never
 * overwritten (a task writing on another's input ends done only after that task finished); each id
 * submitted at once has one task file and one `task.created`.
 *
 *   npm run build && npm run bench:soak -- [--faults 200] [--runners 3] [--seed 7] [--disk-full]
 *
 * Exit 0 when every invariant holds, 1 otherwise.
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { closeSync, existsSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync, rmSync, statSync, symlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { openWorkspace } from "../core/app/open_workspace.js";
import { parseSrt } from "../core/app/subtitles/index.js";
import { EventSchema, type SophiaEvent } from "../core/app/task/model/schema.js";
import { CLI } from "../test/support/harness.js";
import { mountTmpfs, type Mounted } from "../test/support/mounts.js";
import { syntheticSrt } from "../test/support/synthetic_srt.js";

interface Options {
  faults: number;
  runners: number;
  seed: number;
  diskFull: boolean;
}

const STOP_PAST_LEASE_MS = [11_000, 14_000] as const;
const END_TYPES = new Set(["task.completed", "task.failed", "task.canceled"]);
const QUIESCE_TIMEOUT_MS = 300_000;

function parseOptions(argv: string[]): Options {
  const options: Options = { faults: 200, runners: 3, seed: Date.now() % 100_000, diskFull: false };
  for (let i = 0; i < argv.length; i++) {
    const flag = argv[i];
    if (flag === "--disk-full") options.diskFull = true;
    else if (flag === "--faults" || flag === "--runners" || flag === "--seed") options[flag.slice(2) as "faults" | "runners" | "seed"] = Number(argv[++i]);
    else throw new Error(`unknown option ${flag}`);
  }
  return options;
}

/** mulberry32: a small seeded generator, so a campaign can be replayed by its seed. */
function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

type TaskKind = "refine" | "asr";

interface SoakTask {
  id: string;
  kind: TaskKind;
  file: string;
  /** What the task writes. */
  outputs: string[];
  /** What the task reads besides the shared media: a refine-only task's raw SRT. */
  inputs: string[];
}

class Campaign {
  private readonly random: () => number;
  private readonly root: string;
  private readonly ws: string;
  private readonly tasksDir: string;
  private readonly outputsDir: string;
  private readonly tasks = new Map<string, SoakTask>();
  private readonly duplicates: string[] = [];
  private readonly runners = new Set<ChildProcess>();
  private readonly logs: string[] = [];
  private stopped: ChildProcess | null = null;
  private readonly pendingCli = new Set<Promise<unknown>>();
  /** Tasks a cancel was sent for: each is canceled once. */
  private readonly canceling = new Set<string>();
  private nextTask = 1;
  private mounted: Mounted | null = null;
  readonly faults = new Map<string, number>();
  /** Links put at running tasks' outputs: the link, and what its target held then. */
  private readonly swaps: { taskId: string; link: string; target: string; before: string }[] = [];
  /** Tasks whose output is another task's input: the victim, that input, and its bytes then. */
  private readonly clobbers: { taskId: string; victim: string; input: string; before: string }[] = [];
  /** Task ids submitted three times at once. */
  private readonly races: string[] = [];

  constructor(private readonly options: Options) {
    this.random = seeded(options.seed);
    this.root = mkdtempSync(path.join(tmpdir(), "sophia-soak-"));
    this.ws = path.join(this.root, "workspace");
    mkdirSync(this.ws);
    if (options.diskFull) {
      this.mounted = mountTmpfs(this.ws, 64 * 1024 * 1024);
      if (!this.mounted.ok) throw new Error(`--disk-full: ${this.mounted.reason}`);
    }
    this.tasksDir = path.join(this.ws, "tasks");
    this.outputsDir = path.join(this.ws, "outputs");
    for (const dir of [this.tasksDir, this.outputsDir, path.join(this.ws, "inbox")]) mkdirSync(dir, { recursive: true });
    execFileSync("espeak-ng", ["-s", "170", "-w", path.join(this.ws, "inbox", "speech.wav"), "Thank you for coming today. We will start with a short review."]);
  }

  async run(): Promise<number> {
    const started = Date.now();
    for (let i = 0; i < this.options.runners; i++) this.startRunner();
    let injected = 0;
    while (injected < this.options.faults) {
      this.feedQueue();
      if (await this.injectFault()) injected++;
      await sleep(700 + this.random() * 1300);
    }
    console.error(`soak: ${injected} faults in ${((Date.now() - started) / 1000).toFixed(0)} s; letting the runners finish`);
    if (this.stopped) this.resume(this.stopped);
    await Promise.all(this.pendingCli);
    await this.quiesce();
    await this.stopRunners();
    const report = this.check();
    report.seconds = Math.round((Date.now() - started) / 1000);
    console.log(JSON.stringify(report, null, 2));
    this.printSummary(report);
    if (report.violations.length === 0) this.cleanUp();
    else console.error(`soak: workspace kept for inspection: ${this.ws}`);
    return report.violations.length === 0 ? 0 : 1;
  }

  // --- runners -------------------------------------------------------------------------------

  private startRunner(): void {
    const child = spawn(process.execPath, [CLI, "--workspace", this.ws, "run", "--watch", "--rescan-interval", "1", "--no-progress"], {
      cwd: this.root,
      env: { ...process.env, HF_HUB_OFFLINE: "1", NO_COLOR: "1" },
      stdio: ["ignore", "ignore", "pipe"],
    });
    child.stderr?.on("data", (chunk: Buffer) => this.logs.push(`[${child.pid}] ${chunk.toString().trimEnd()}`));
    child.on("exit", () => this.runners.delete(child));
    this.runners.add(child);
  }

  private liveRunners(): ChildProcess[] {
    return [...this.runners].filter((child) => child !== this.stopped && child.exitCode === null && child.signalCode === null);
  }

  private resume(child: ChildProcess): void {
    child.kill("SIGCONT");
    if (this.stopped === child) this.stopped = null;
  }

  private async quiesce(): Promise<void> {
    const deadline = Date.now() + QUIESCE_TIMEOUT_MS;
    while (Date.now() < deadline) {
      if (this.liveRunners().length === 0) this.startRunner();
      const unsettled = this.readTasks().filter(({ status, conflicted }) => status === "running" || (status === "queued" && !conflicted));
      if (unsettled.length === 0) return;
      await sleep(500);
    }
    console.error("soak: the runners did not settle every task in time");
  }

  private async stopRunners(): Promise<void> {
    const exits = [...this.runners].map((child) => new Promise((resolve) => (child.exitCode !== null || child.signalCode !== null ? resolve(null) : child.once("exit", resolve))));
    for (const child of this.runners) child.kill("SIGTERM");
    await Promise.race([Promise.all(exits), sleep(30_000)]);
    for (const child of this.runners) child.kill("SIGKILL");
  }

  // --- tasks ---------------------------------------------------------------------------------

  private feedQueue(): void {
    const open = this.readTasks().filter(({ status, conflicted }) => !conflicted && (status === "queued" || status === "running")).length;
    try {
      for (let i = open; i < 4; i++) this.dropTask(this.random() < 0.7 ? "refine" : "asr");
    } catch (error) {
      // The disk is full just now: the app would try again later, and so does the campaign.
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
    }
  }

  /** As the app does: the whole file written under a temporary name, then renamed into place. */
  private dropTask(kind: TaskKind, paths: { refined?: string } = {}): SoakTask {
    const id = `soak_${String(this.nextTask++).padStart(4, "0")}`;
    const raw = `workspace/outputs/${id}.raw.srt`;
    const refined = paths.refined ?? `workspace/outputs/${id}.refined.srt`;
    if (kind === "refine") {
      try {
        writeFileSync(path.join(this.root, raw), syntheticSrt(60 + Math.floor(this.random() * 240), { wordsPerCue: 7, everySec: 3 }));
      } catch (error) {
        rmSync(path.join(this.root, raw), { force: true }); // cut short by a full disk
        throw error;
      }
    }
    const task = {
      task_id: id,
      run_id: `run_${id}`,
      created_at: new Date().toISOString(),
      status: "queued",
      type: "transcription",
      requested_by: "soak",
      tool: "bench/soak.ts",
      config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en" }, refine: { enabled: true } },
      input: { media: "workspace/inbox/speech.wav", script: null },
      pipeline: kind === "refine" ? ["refine"] : ["asr", "refine"],
      output: { raw_srt: raw, refined_srt: refined },
      error: null,
    };
    const file = path.join(this.tasksDir, `20260206_${id}.task.json`);
    try {
      writeAtomically(file, `${JSON.stringify(task, null, 2)}\n`);
    } catch (error) {
      // The disk filled up between the raw SRT and the task file: the app would take both back.
      if (kind === "refine") rmSync(path.join(this.root, raw), { force: true });
      throw error;
    }
    const soakTask =
      kind === "refine"
        ? { id, kind, file, outputs: [path.join(this.root, refined)], inputs: [path.join(this.root, raw)] }
        : { id, kind, file, outputs: [path.join(this.root, raw), path.join(this.root, refined)], inputs: [] };
    this.tasks.set(id, soakTask);
    return soakTask;
  }

  private readTasks(): { id: string; file: string; status: string; conflicted: boolean; raw: Record<string, unknown> | null }[] {
    const names = readdirSync(this.tasksDir).filter((name) => name.endsWith(".task.json"));
    // `{timestamp}_{task_id}.task.json`: the app's stamps are digits, submit's `20261207T203843Z`.
    const ids = names.map((name) => name.replace(/^[^_]+_/, "").replace(/\.task\.json$/, ""));
    return names.map((name, i) => {
      const file = path.join(this.tasksDir, name);
      let raw: Record<string, unknown> | null = null;
      try {
        raw = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
      } catch {
        // mid-rename or unreadable: reported by the final check
      }
      const id = ids[i] as string;
      return { id, file, status: String(raw?.status ?? "unreadable"), conflicted: ids.filter((other) => other === id).length > 1, raw };
    });
  }

  /** The stage a running task is in now, from its last stage.started event. */
  private stageOf(taskId: string): string | null {
    let stage: string | null = null;
    for (const line of this.eventLines()) {
      if (!line.includes(`"${taskId}"`)) continue;
      try {
        const event = JSON.parse(line) as { task_id: string; type: string; payload: { stage?: string } };
        if (event.task_id !== taskId) continue;
        if (event.type === "stage.started") stage = event.payload.stage ?? null;
        if (event.type === "task.started") stage = "preflight";
      } catch {
        // counted by the final check
      }
    }
    return stage;
  }

  /** Each task's events (time and type), in the stream's order. */
  private timelines(): Map<string, { ts: string; type: string }[]> {
    const timelines = new Map<string, { ts: string; type: string }[]>();
    for (const line of this.eventLines()) {
      let event: { ts: string; task_id: string; type: string };
      try {
        event = JSON.parse(line) as { ts: string; task_id: string; type: string };
      } catch {
        continue;
      }
      timelines.set(event.task_id, [...(timelines.get(event.task_id) ?? []), { ts: event.ts, type: event.type }]);
    }
    return timelines;
  }

  private eventLines(): string[] {
    const dir = path.join(this.ws, "events");
    if (!existsSync(dir)) return [];
    return readdirSync(dir)
      .filter((name) => name.endsWith(".jsonl"))
      .sort()
      .flatMap((name) => readFileSync(path.join(dir, name), "utf8").split("\n").filter((line) => line !== ""));
  }

  // --- faults --------------------------------------------------------------------------------

  private count(kind: string): true {
    this.faults.set(kind, (this.faults.get(kind) ?? 0) + 1);
    return true;
  }

  private async injectFault(): Promise<boolean> {
    const kinds: [string, number][] = [
      ["kill_runner", 0.6],
      ["kill_worker", 1],
      ["stop_runner", this.stopped ? 0 : 0.8],
      ["cancel", 3],
      ["duplicate_id", 0.4],
      ["retry", 1],
      ["disk_full", this.options.diskFull ? 0.7 : 0],
      ["link_swap", 0.7],
      ["input_as_output", 0.6],
      ["same_id_race", 0.3],
    ];
    const total = kinds.reduce((sum, [, weight]) => sum + weight, 0);
    let roll = this.random() * total;
    const kind = (kinds.find(([, weight]) => (roll -= weight) < 0) ?? kinds[0])?.[0];
    switch (kind) {
      case "kill_runner":
        return this.killRunner();
      case "kill_worker":
        return this.killWorker();
      case "stop_runner":
        return this.stopRunner();
      case "cancel":
        return this.cancelSomething();
      case "duplicate_id":
        return this.duplicateId();
      case "retry":
        this.retrySomething();
        return false; // keeps work flowing; not a fault
      case "disk_full":
        return this.fillDisk();
      case "link_swap":
        return this.swapOutputForLink();
      case "input_as_output":
        return this.outputOnAnInput();
      case "same_id_race":
        return this.sameIdRace();
      default:
        return false;
    }
  }

  private pick<T>(items: readonly T[]): T | undefined {
    return items[Math.floor(this.random() * items.length)];
  }

  private killRunner(): boolean {
    const victim = this.pick(this.liveRunners());
    if (!victim) return false;
    victim.kill("SIGKILL");
    this.runners.delete(victim);
    this.startRunner();
    return this.count("kill -9 runner");
  }

  private killWorker(): boolean {
    const workers = this.liveRunners().flatMap((runner) => childPids(runner.pid as number).filter((pid) => cmdline(pid).includes("worker.py")));
    const victim = this.pick(workers);
    if (victim === undefined) return false;
    try {
      process.kill(victim, "SIGKILL");
    } catch {
      return false;
    }
    return this.count("kill -9 worker");
  }

  private stopRunner(): boolean {
    // Prefer a runner in the middle of a task: that is where losing the lease matters.
    const live = this.liveRunners();
    if (live.length < 2) return false;
    const busy = live.filter((runner) => childPids(runner.pid as number).length > 0);
    const victim = this.pick(busy.length > 0 && this.random() < 0.5 ? busy : live);
    if (!victim) return false;
    victim.kill("SIGSTOP");
    this.stopped = victim;
    const [low, high] = STOP_PAST_LEASE_MS;
    setTimeout(() => this.resume(victim), low + this.random() * (high - low));
    return this.count("SIGSTOP/SIGCONT past the lease");
  }

  private cancelSomething(): boolean {
    const tasks = this.readTasks().filter(({ status, conflicted }) => !conflicted && (status === "queued" || status === "running"));
    const byStage = new Map<string, string[]>();
    for (const task of tasks) {
      const stage = task.status === "queued" ? "queued" : (this.stageOf(task.id) ?? "preflight");
      byStage.set(stage, [...(byStage.get(stage) ?? []), task.id]);
    }
    const stage = this.pick([...byStage.keys()]);
    const taskId = stage ? this.pick((byStage.get(stage) ?? []).filter((id) => !this.canceling.has(id))) : undefined;
    if (!stage || !taskId || !this.cliInBackground(["cancel", taskId])) return false;
    this.canceling.add(taskId);
    return this.count(`cancel while ${stage}`);
  }

  private retrySomething(): void {
    const taskId = this.pick(this.readTasks().filter(({ status, conflicted }) => !conflicted && (status === "canceled" || status === "failed")).map(({ id }) => id));
    if (taskId) this.cliInBackground(["retry", taskId]);
  }

  private duplicateId(): boolean {
    const original = this.pick([...this.tasks.values()]);
    if (!original || this.duplicates.includes(original.id)) return false;
    const text = readFileSync(original.file, "utf8").replace(/"status": "[a-z]+"/, '"status": "queued"');
    try {
      writeAtomically(path.join(this.tasksDir, `20260207_${original.id}.task.json`), text);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      return false;
    }
    this.duplicates.push(original.id);
    return this.count("duplicate task_id");
  }

  private fillDisk(): boolean {
    const filler = path.join(this.ws, "filler.bin");
    const chunk = Buffer.alloc(1024 * 1024);
    const fd = openSync(filler, "w");
    try {
      for (;;) writeSync(fd, chunk);
    } catch {
      // ENOSPC: the disk is full now
    } finally {
      closeSync(fd);
    }
    setTimeout(() => rmSync(filler, { force: true }), 500 + this.random() * 2500);
    return this.count("disk full");
  }

  /** A running task's output made a link while it runs: to a file outside the workspace, or to the day's event log. */
  private swapOutputForLink(): boolean {
    const running = this.readTasks().filter(({ status, conflicted, id }) => status === "running" && !conflicted && this.tasks.has(id));
    const task = this.tasks.get(this.pick(running)?.id ?? "");
    const output = task ? this.pick(task.outputs.filter((file) => !existsSync(file))) : undefined;
    if (!task || !output) return false;
    const events = path.join(this.ws, "events", `${new Date().toISOString().slice(0, 10)}_events.jsonl`);
    let target = events;
    if (this.random() < 0.5 || !existsSync(events)) {
      target = path.join(this.root, `outside_${task.id}_${path.basename(output)}.txt`);
      writeFileSync(target, `a file outside the workspace, ${task.id}\n`);
    }
    try {
      symlinkSync(target, output);
    } catch {
      return false; // written meanwhile
    }
    // The event log grows: what must hold is that it still parses (checked) and was not replaced.
    this.swaps.push({ taskId: task.id, link: output, target, before: target === events ? "" : readFileSync(target, "utf8") });
    return this.count("output swapped for a link while running");
  }

  /** A refine-only task whose refined output is the raw SRT input of a refine-only task not yet started. */
  private outputOnAnInput(): boolean {
    const queued = new Set(this.readTasks().filter(({ status, conflicted }) => status === "queued" && !conflicted).map(({ id }) => id));
    const victim = this.pick([...this.tasks.values()].filter((task) => task.kind === "refine" && queued.has(task.id) && task.inputs.length === 1));
    const input = victim?.inputs[0];
    if (!victim || !input) return false;
    let clobber: SoakTask;
    try {
      clobber = this.dropTask("refine", { refined: path.relative(this.root, input) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
      return false;
    }
    this.clobbers.push({ taskId: clobber.id, victim: victim.id, input, before: readFileSync(input, "utf8") });
    return this.count("output on another task's input");
  }

  /** One id submitted three times at once: two library submits (two workspaces objects) and a CLI one. */
  private sameIdRace(): boolean {
    if (this.pendingCli.size >= 2) return false;
    const id = `race_${String(this.nextTask++).padStart(4, "0")}`;
    const media = path.join(this.ws, "inbox", "speech.wav");
    const submitArgs = ["submit", media, "--id", id, "--model", "tiny.en", "--language", "en", "--output-dir", this.outputsDir];
    this.cliInBackground(submitArgs);
    const library = [0, 1].map(() =>
      openWorkspace({ workspace: this.ws })
        .submit({ media, taskId: id, model: "tiny.en", language: "en", outputDir: this.outputsDir })
        .catch(() => null),
    );
    const done = Promise.all(library);
    this.pendingCli.add(done);
    void done.then(() => this.pendingCli.delete(done));
    this.races.push(id);
    return this.count("one id submitted 3× at once");
  }

  private cliInBackground(args: string[]): boolean {
    if (this.pendingCli.size >= 2) return false;
    const child = spawn(process.execPath, [CLI, "--workspace", this.ws, ...args], { cwd: this.root, stdio: "ignore", env: { ...process.env, HF_HUB_OFFLINE: "1" } });
    const done = new Promise((resolve) => child.on("close", resolve));
    this.pendingCli.add(done);
    void done.then(() => this.pendingCli.delete(done));
    return true;
  }

  // --- invariants ----------------------------------------------------------------------------

  private check(): Report {
    const violations: string[] = [];
    const tasks = this.readTasks();
    const byStatus: Record<string, number> = {};
    for (const task of tasks) {
      byStatus[task.status] = (byStatus[task.status] ?? 0) + 1;
      if (!["done", "failed", "canceled", "queued"].includes(task.status)) violations.push(`${path.basename(task.file)} is ${task.status}`);
      if (task.status === "queued" && !task.conflicted) violations.push(`${path.basename(task.file)} is still queued, with live runners`);
    }

    let tornLines = 0;
    let cutLines = 0;
    const completions = new Map<string, number>();
    const happenings: Record<string, number> = {};
    for (const line of this.eventLines()) {
      try {
        const event = EventSchema.parse(JSON.parse(line)) as SophiaEvent;
        if (event.type === "task.completed") completions.set(event.task_id, (completions.get(event.task_id) ?? 0) + 1);
        const what =
          event.type === "stage.aborted" ? `aborted: ${event.payload.reason}` : event.type === "task.requeued" ? `requeued: ${event.payload.reason}` : event.type === "task.conflict" ? "conflicts reported" : null;
        if (what) happenings[what] = (happenings[what] ?? 0) + 1;
      } catch {
        // A full disk can cut an append short (ENOSPC part-way); the next event then starts on a line
        // of its own. Two events glued on one line would be the defect.
        if (this.options.diskFull && line.startsWith('{"ts":') && !line.includes('}{"ts":')) cutLines++;
        else tornLines++;
      }
    }
    if (tornLines > 0) violations.push(`${tornLines} event lines do not parse`);

    const completionsPerTask: Record<string, number> = {};
    let outputsLost = 0;
    let outputsIncomplete = 0;
    let leftByCanceled = 0;
    const statusOf = new Map(tasks.filter((task) => !task.conflicted).map((task) => [task.id, task.status]));
    for (const task of this.tasks.values()) {
      const status = statusOf.get(task.id);
      const completed = completions.get(task.id) ?? 0;
      completionsPerTask[String(completed)] = (completionsPerTask[String(completed)] ?? 0) + 1;
      if (status !== undefined && completed !== (status === "done" ? 1 : 0)) violations.push(`${task.id} is ${status} and completed ${completed} times`);
      if (status === undefined && completed > 1) violations.push(`${task.id} (duplicate id) completed ${completed} times`);
      for (const output of task.outputs) {
        if (isLink(output)) continue; // a link the campaign put there (checked above)
        const present = existsSync(output);
        if (status === "done" && !present) {
          outputsLost++;
          violations.push(`${task.id} is done but ${path.basename(output)} is gone`);
        }
        if (present && !isCompleteSrt(output)) {
          outputsIncomplete++;
          violations.push(`${path.basename(output)} is not a complete SRT`);
        }
        if (present && status === "canceled") leftByCanceled++;
      }
    }

    const swapped = new Set(this.swaps.map(({ link }) => link));
    for (const swap of this.swaps) {
      const status = statusOf.get(swap.taskId);
      if (swap.before !== "" && readFileSync(swap.target, "utf8") !== swap.before) violations.push(`${swap.taskId} wrote through the link at ${path.basename(swap.link)}`);
      if (isLink(swap.link) && status === "done") violations.push(`${swap.taskId} is done with a link at ${path.basename(swap.link)}`);
    }
    const eventLogs = readdirSync(path.join(this.ws, "events"));
    if (eventLogs.some((name) => isLink(path.join(this.ws, "events", name)))) violations.push("an event log is a link");
    const timelines = this.timelines();
    const writtenThrough = new Set<string>();
    for (const clobber of this.clobbers) {
      // The runs of the task that wrote on the input: each must have started while the victim was
      // finished (the start check), and the input may have changed only through a run that completed.
      const writer = timelines.get(clobber.taskId) ?? [];
      const victim = timelines.get(clobber.victim) ?? [];
      const completedRuns = writer.filter((event, i) => event.type === "task.started" && writer.slice(i + 1).find((next) => next.type === "task.started" || END_TYPES.has(next.type))?.type === "task.completed");
      for (const run of completedRuns) {
        const victimThen = [...victim].reverse().find((event) => event.ts <= run.ts && (event.type === "task.created" || event.type === "task.started" || event.type === "task.requeued" || END_TYPES.has(event.type)));
        if (!victimThen || !END_TYPES.has(victimThen.type)) violations.push(`${clobber.taskId} started writing on the input of ${clobber.victim} at ${run.ts}, when ${clobber.victim} was not finished (${victimThen?.type ?? "not yet created"})`);
      }
      if (completedRuns.length > 0) writtenThrough.add(clobber.input);
    }
    // An input changed only by a completed run of a task that wrote on it (several may aim at one input).
    for (const clobber of this.clobbers) {
      if (!writtenThrough.has(clobber.input) && readFileSync(clobber.input, "utf8") !== clobber.before) violations.push(`${clobber.victim}'s input was changed, and no task writing on it completed`);
    }
    const created = new Map<string, number>();
    for (const line of this.eventLines()) {
      if (!line.includes('"task.created"')) continue;
      const { task_id: id } = JSON.parse(line) as { task_id: string };
      created.set(id, (created.get(id) ?? 0) + 1);
    }
    const raceOutputs: string[] = [];
    for (const id of this.races) {
      const files = tasks.filter((task) => task.id === id);
      if (files.length > 1 || (created.get(id) ?? 0) !== files.length) violations.push(`${id}: ${files.length} task files and ${created.get(id) ?? 0} task.created events`);
      const output = files[0]?.raw?.output as { raw_srt?: string; refined_srt?: string } | undefined;
      for (const file of [output?.raw_srt, output?.refined_srt]) if (file) raceOutputs.push(path.resolve(this.root, file));
    }

    const known = new Set([...[...this.tasks.values()].flatMap((task) => [...task.outputs, ...task.inputs]), ...raceOutputs, ...swapped, ...this.swaps.map(({ target }) => target)]);
    const strays = [
      ...readdirSync(this.outputsDir)
        .map((name) => path.join(this.outputsDir, name))
        .filter((file) => !known.has(file) && path.basename(file) !== "_tmp"),
      ...(existsSync(path.join(this.outputsDir, "_tmp")) ? readdirSync(path.join(this.outputsDir, "_tmp")).map((name) => path.join(this.outputsDir, "_tmp", name)) : []),
      ...readdirSync(this.tasksDir)
        .filter((name) => !name.endsWith(".task.json") && name !== ".sophia-task-cache.json")
        .map((name) => path.join(this.tasksDir, name)),
    ].map((file) => path.relative(this.ws, file));
    for (const stray of strays) violations.push(`stray ${stray}${strayAge(path.join(this.ws, stray))}`);

    return {
      seed: this.options.seed,
      seconds: 0,
      faults_injected: [...this.faults.values()].reduce((sum, n) => sum + n, 0),
      faults: Object.fromEntries([...this.faults].sort()),
      tasks: this.tasks.size,
      task_files: tasks.length,
      duplicate_ids: this.duplicates.length,
      link_swaps: { total: this.swaps.length, by_status: countBy(this.swaps.map(({ taskId }) => statusOf.get(taskId) ?? "?")) },
      inputs_as_outputs: { total: this.clobbers.length, by_status: countBy(this.clobbers.map(({ taskId }) => statusOf.get(taskId) ?? "?")) },
      same_id_races: { total: this.races.length, task_files: this.races.filter((id) => tasks.some((task) => task.id === id)).length },
      statuses: byStatus,
      happenings,
      completions_per_task: completionsPerTask,
      outputs_lost: outputsLost,
      outputs_incomplete: outputsIncomplete,
      outputs_left_by_canceled_tasks: leftByCanceled,
      torn_lines: tornLines,
      lines_cut_by_full_disk: cutLines,
      event_lines: this.eventLines().length,
      strays,
      violations,
    };
  }

  private printSummary(report: Report): void {
    console.error(
      [
        "",
        `soak (seed ${report.seed}, ${report.seconds} s): ${report.faults_injected} faults injected`,
        ...Object.entries(report.faults).map(([kind, n]) => `  ${String(n).padStart(4)}  ${kind}`),
        `tasks: ${report.tasks} (+${report.duplicate_ids} duplicate-id files); statuses: ${JSON.stringify(report.statuses)}`,
        `link swaps: ${JSON.stringify(report.link_swaps)}; outputs on an input: ${JSON.stringify(report.inputs_as_outputs)}; same-id races: ${JSON.stringify(report.same_id_races)}`,
        `runners: ${JSON.stringify(report.happenings)}`,
        `completions per task: ${Object.entries(report.completions_per_task).map(([times, n]) => `${n} tasks × ${times}`).join(", ")}`,
        `outputs lost: ${report.outputs_lost}; incomplete: ${report.outputs_incomplete}; torn event lines: ${report.torn_lines} of ${report.event_lines} (cut short by the full disk, the next event on a line of its own: ${report.lines_cut_by_full_disk})`,
        `strays: ${report.strays.length}; violations: ${report.violations.length}`,
        ...report.violations.slice(0, 30).map((violation) => `  ✗ ${violation}`),
      ].join("\n"),
    );
  }

  private cleanUp(): void {
    if (this.mounted?.ok) this.mounted.undo();
    rmSync(this.root, { recursive: true, force: true });
  }
}

interface Report {
  seed: number;
  seconds: number;
  faults_injected: number;
  faults: Record<string, number>;
  tasks: number;
  task_files: number;
  duplicate_ids: number;
  link_swaps: { total: number; by_status: Record<string, number> };
  inputs_as_outputs: { total: number; by_status: Record<string, number> };
  same_id_races: { total: number; task_files: number };
  statuses: Record<string, number>;
  /** What the runners did about the faults, from the event stream. */
  happenings: Record<string, number>;
  completions_per_task: Record<string, number>;
  outputs_lost: number;
  outputs_incomplete: number;
  outputs_left_by_canceled_tasks: number;
  torn_lines: number;
  lines_cut_by_full_disk: number;
  event_lines: number;
  strays: string[];
  violations: string[];
}

function writeAtomically(file: string, text: string): void {
  const partial = `${file}.soak-partial`;
  try {
    writeFileSync(partial, text);
    renameSync(partial, file);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
}

function isLink(file: string): boolean {
  return lstatSync(file, { throwIfNoEntry: false })?.isSymbolicLink() ?? false;
}

function countBy(values: readonly string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

function isCompleteSrt(file: string): boolean {
  try {
    const text = readFileSync(file, "utf8");
    return text.endsWith("\n") && parseSrt(text, file).length > 0;
  } catch {
    return false;
  }
}

function strayAge(file: string): string {
  try {
    return ` (${((Date.now() - statSync(file).mtimeMs) / 1000).toFixed(0)} s old)`;
  } catch {
    return "";
  }
}

function childPids(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8");
  } catch {
    return "";
  }
}

const options = parseOptions(process.argv.slice(2));
console.error(`soak: ${options.faults} faults, ${options.runners} runners, seed ${options.seed}${options.diskFull ? ", disk full on a 64 MB tmpfs" : ""}`);
process.exitCode = await new Campaign(options).run();
