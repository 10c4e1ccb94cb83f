/**
 * Where a task may write: inside the workspace, never over the workspace's own files (task files,
 * locks, leases, events, intermediates, models) and never over an input, however the path is
 * spelt or whatever symbolic links lie on the way. On a real temporary folder, with real links.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { EngineRegistry } from "../../core/app/engines/registry.js";
import { isSophiaError, type ErrorCode } from "../../core/app/errors.js";
import { createStages } from "../../core/app/stages/index.js";
import { TaskSchema, type Task } from "../../core/app/task/model/schema.js";
import { pipelineOutputs } from "../../core/app/stages/pipeline.js";
import { resolveTaskPaths } from "../../core/app/task/model/task_paths.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { specExampleTask } from "../support/harness.js";

describe("task paths", { timeout: 60_000 }, () => {
  let root: string;
  let workspace: Workspace;

  before(() => {
    root = mkdtempSync(path.join(tmpdir(), "sophia-paths-"));
    workspace = new Workspace(path.join(root, "workspace"));
    for (const dir of ["tasks", "events", "inbox", "outputs/_tmp/t1", "models/tiny.en"]) mkdirSync(path.join(workspace.dir, dir), { recursive: true });
    writeFileSync(path.join(workspace.dir, "inbox/in.wav"), "RIFF");
    writeFileSync(path.join(workspace.dir, "inbox/talk.txt"), "words");
    writeFileSync(path.join(workspace.dir, "tasks/20260206_t1.task.json"), "{}");
    writeFileSync(path.join(workspace.dir, "tasks/20260206_other.task.json"), "{}");
    mkdirSync(path.join(workspace.dir, "tasks/20260206_t1.task.json.lease"));
    writeFileSync(path.join(workspace.dir, "events/2026-02-06_events.jsonl"), "");
    symlinkSync("inbox", path.join(workspace.dir, "alias"));
    symlinkSync("../tasks", path.join(workspace.dir, "inbox/to_tasks"));
    symlinkSync("in.wav", path.join(workspace.dir, "inbox/in_link.wav"));
  });
  after(() => rmSync(root, { recursive: true, force: true }));

  const taskWith = (output: Record<string, string>, overrides: Record<string, unknown> = {}): Task =>
    TaskSchema.parse(
      specExampleTask({ task_id: "t1", input: { media: "workspace/inbox/in.wav", script: "workspace/inbox/talk.txt" }, pipeline: ["asr", "refine"], output, ...overrides }),
    );

  const stages = createStages(undefined as unknown as EngineRegistry); // only their output declarations are used

  /** Refused when its paths are resolved, or when its stages' outputs are checked against each other. */
  function refused(output: Record<string, string>, code: ErrorCode, message: RegExp, overrides: Record<string, unknown> = {}): void {
    const task = taskWith(output, overrides);
    assert.throws(
      () => pipelineOutputs(task, resolveTaskPaths(task, workspace), stages),
      (error) => isSophiaError(error, code) && message.test(error.message),
      `${JSON.stringify(output)} must be refused with ${code}`,
    );
  }

  test("ordinary outputs under outputs/ are accepted and resolved inside the workspace", () => {
    const paths = resolveTaskPaths(taskWith({}), workspace);
    assert.equal(paths.rawSrt, path.join(workspace.dir, "outputs/subtitles/raw/in.t1.raw.srt"));
    assert.equal(paths.refinedSrt, path.join(workspace.dir, "outputs/subtitles/refined/in.t1.refined.srt"));
  });

  test("a media name too long for its outputs' names gets default names cut to fit, the same each time and distinct for each media", { timeout: 30_000 }, () => {
    const long = (ending: string) => `workspace/inbox/${"Überlänge ".repeat(22)}${ending}.wav`; // 244 bytes before the ending
    const namesOf = (media: string) => {
      const paths = resolveTaskPaths(taskWith({}, { task_id: `t_${"x".repeat(100)}`, input: { media, script: null }, output: { formats: ["srt", "json", "tsv"] } }), workspace);
      return [paths.rawSrt, ...paths.refined.map((output) => output.path)].map((file) => path.basename(file));
    };
    const first = namesOf(long("part one"));
    for (const name of first) assert.ok(Buffer.byteLength(name) <= 223, `${name} is ${Buffer.byteLength(name)} bytes`);
    assert.match(first[0] as string, /^Überlänge .*~[0-9a-f]{8}\.t_x+\.raw\.srt$/);
    assert.deepEqual(namesOf(long("part one")), first, "the same media, the same names");
    assert.notDeepEqual(namesOf(long("part two")), first, "two long names that start alike get names of their own");
    assert.deepEqual(namesOf("workspace/inbox/in.wav")[0], `in.t_${"x".repeat(100)}.raw.srt`, "a name that fits is kept as it is");
  });

  test("an output name the file system would refuse is refused before any stage, naming the field", { timeout: 30_000 }, () => {
    refused({ raw_srt: `workspace/outputs/${"n".repeat(240)}.srt` }, "output_name_too_long", /output\.raw_srt "workspace\/outputs\/n+\.srt": its file name is 244 bytes, over the 223/);
    refused({ refined_srt: `workspace/outputs/${"d".repeat(300)}/talk.srt` }, "output_name_too_long", /output\.refined_srt .*a folder in it is named with 300 bytes/);
  });

  test("an output can never be the event log, a task file (its own or another's), a lock or a lease", () => {
    refused({ raw_srt: "workspace/events/2026-02-06_events.jsonl" }, "output_reserved", /output\.raw_srt "workspace\/events\/2026-02-06_events\.jsonl" is inside workspace\/events\/, which holds the event stream/);
    refused({ raw_srt: "workspace/tasks/20260206_t1.task.json" }, "output_reserved", /holds task files/);
    refused({ refined_srt: "workspace/tasks/20260206_other.task.json" }, "output_reserved", /output\.refined_srt .*holds task files/);
    refused({ raw_srt: "workspace/tasks/20260206_t1.task.json.lock" }, "output_reserved", /holds task files, their locks and leases/);
    refused({ raw_srt: "workspace/tasks/20260206_t1.task.json.lease/x" }, "output_reserved", /holds task files/);
    refused({ raw_srt: "workspace/tasks/new.srt" }, "output_reserved", /tasks/);
  });

  test("nor the runner's intermediates, a model, the workspace folder itself or any folder", () => {
    refused({ raw_srt: "workspace/outputs/_tmp/t1/transcript.json" }, "output_reserved", /holds the runner's intermediates/);
    refused({ raw_srt: "workspace/models/tiny.en/model.bin" }, "output_reserved", /holds the engine's models/);
    refused({ raw_srt: "workspace" }, "output_reserved", /the workspace folder itself/);
    refused({ raw_srt: "workspace/inbox" }, "output_reserved", /is a folder/);
  });

  test("an output can never be an input, however it is spelt", () => {
    refused({ raw_srt: "workspace/inbox/in.wav" }, "output_clobbers_input", /output\.raw_srt "workspace\/inbox\/in\.wav" is the same file as input\.media/);
    refused({ refined_srt: "workspace/inbox/../inbox/talk.txt" }, "output_clobbers_input", /output\.refined_srt .* is the same file as input\.script/);
    refused({ raw_srt: path.join(workspace.dir, "inbox/in.wav") }, "output_clobbers_input", /input\.media/);
  });

  test("symbolic links are seen through: a linked parent folder, a linked file, a link into tasks/", () => {
    // The case: `ln -s inbox alias`, then raw_srt workspace/alias/in.wav.
    refused({ raw_srt: "workspace/alias/in.wav" }, "output_clobbers_input", /output\.raw_srt "workspace\/alias\/in\.wav" is the same file as input\.media "workspace\/inbox\/in\.wav" \(both lead to .*inbox\/in\.wav\)/);
    refused({ raw_srt: "workspace/inbox/in_link.wav" }, "output_clobbers_input", /input\.media/);
    refused({ raw_srt: "workspace/alias/talk.txt" }, "output_clobbers_input", /input\.script/);
    // An output that does not exist yet, under a linked folder: the folder's real path decides.
    refused({ raw_srt: "workspace/inbox/to_tasks/new.raw.srt" }, "output_reserved", /holds task files/);
    refused({ raw_srt: "workspace/inbox/to_tasks/not/yet/made.srt" }, "output_reserved", /holds task files/);
  });

  test("the raw and refined outputs cannot be one file when refine runs, through a link either", () => {
    refused({ raw_srt: "workspace/outputs/a.srt", refined_srt: "workspace/outputs/a.srt" }, "output_clobbers_input", /output\.refined_srt .* is the same file as output\.raw_srt/);
    refused({ raw_srt: "workspace/inbox/s.srt", refined_srt: "workspace/alias/s.srt" }, "output_clobbers_input", /output\.raw_srt/);
    // Without refine only the raw SRT is written: one name for both is harmless.
    const asrOnly = taskWith({ raw_srt: "workspace/outputs/a.srt", refined_srt: "workspace/outputs/a.srt" }, { pipeline: ["asr"] });
    const paths = resolveTaskPaths(asrOnly, workspace);
    assert.equal(paths.rawSrt, path.join(workspace.dir, "outputs/a.srt"));
    assert.deepEqual(pipelineOutputs(asrOnly, paths, stages).map((output) => output.field), ["output.raw_srt"]);
  });

  test("every format is written beside the refined SRT, and two formats can never be one file", () => {
    const paths = resolveTaskPaths(taskWith({ refined_srt: "workspace/outputs/talk.refined.srt" }, { output: { refined_srt: "workspace/outputs/talk.refined.srt", formats: ["srt", "vtt", "json", "vtt"] } }), workspace);
    assert.deepEqual(
      paths.refined.map(({ format, path: file }) => [format, path.relative(workspace.dir, file)]),
      [["srt", "outputs/talk.refined.srt"], ["vtt", "outputs/talk.refined.vtt"], ["json", "outputs/talk.refined.json"]],
    );
    refused({}, "output_clobbers_input", /output\.refined_srt and output\.formats "vtt" are the same file/, { output: { refined_srt: "workspace/outputs/talk.vtt", formats: ["srt", "vtt"] } });
    refused({}, "output_reserved", /output\.formats "vtt" "workspace\/events\/x\.vtt" is inside workspace\/events\//, { output: { refined_srt: "workspace/events/x.srt", formats: ["vtt"] } });
  });

  test("a workspace reached through a link keeps the same rules", () => {
    const linked = path.join(root, "linked_ws");
    symlinkSync("workspace", linked);
    const viaLink = new Workspace(linked);
    assert.throws(
      () => resolveTaskPaths(taskWith({ raw_srt: path.join(workspace.dir, "events/x.srt") }), viaLink),
      (error) => isSophiaError(error, "output_reserved"),
    );
  });
});
