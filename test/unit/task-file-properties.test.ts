/**
 * The task loader over generated task files (fast-check), valid and hostile: wrong types, missing
 * fields, huge strings, deep nesting, bad ids, invalid UTF-8, truncated JSON, values that are not
 * objects. Whatever lands in tasks/, the loader never throws, lists each file exactly once, accepts
 * every valid file (and writes it back with its unknown fields intact), and gives every invalid file
 * exactly one clear error: a task_invalid SophiaError, one line, that names the file.
 */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { SophiaError } from "../../core/app/errors.js";
import { canTransition } from "../../core/app/task/model/lifecycle.js";
import { TASK_STATUSES, TaskSchema } from "../../core/app/task/model/schema.js";
import { TASK_FILE_MAX_BYTES, TaskStore } from "../../core/app/task/store/store.js";
import { Workspace } from "../../core/app/task/model/workspace.js";
import { taskFolder } from "../support/task_folder.js";

const RUNS = 100;
const KNOWN_FIELDS = ["task_id", "run_id", "created_at", "status", "type", "requested_by", "tool", "config_snapshot", "input", "pipeline", "output", "error", "attempts", "started_at", "finished_at", "runner"];
const REQUIRED_FIELDS = ["task_id", "run_id", "created_at", "status", "type", "requested_by", "tool", "config_snapshot", "input", "pipeline", "error"];

const taskId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,40}$/);
const text = fc.string({ minLength: 1, maxLength: 40 });
const isoTime = fc.date({ min: new Date("2000-01-01T00:00:00Z"), max: new Date("2099-12-31T23:59:59Z"), noInvalidDate: true }).map((date) => date.toISOString());
/** What the desktop app may add: any JSON, nested a little, under names the runner does not use. */
const appFields = fc.dictionary(
  fc.string({ minLength: 1, maxLength: 12 }).filter((key) => !KNOWN_FIELDS.includes(key) && key !== "__proto__"),
  fc.jsonValue({ maxDepth: 4 }),
  { maxKeys: 4 },
);

const validTask = fc
  .record({
    task_id: taskId,
    run_id: text,
    created_at: isoTime,
    status: fc.constantFrom(...TASK_STATUSES),
    type: fc.constant("transcription"),
    requested_by: fc.string({ maxLength: 20 }),
    tool: fc.string({ maxLength: 20 }),
    config_snapshot: fc.record({ engine: fc.record({ type: text, model: text }, { requiredKeys: ["type"] }), refine: fc.record({ enabled: fc.boolean() }) }, { requiredKeys: ["engine"] }),
    input: fc.record({ media: text, script: fc.option(text, { nil: null }) }, { requiredKeys: ["media"] }),
    pipeline: fc.array(text, { minLength: 1, maxLength: 4 }),
    output: fc.record({ raw_srt: text, refined_srt: text }, { requiredKeys: [] }),
    error: fc.constant(null),
    attempts: fc.nat({ max: 9 }),
  }, { requiredKeys: REQUIRED_FIELDS as never[] })
  .chain((task) => appFields.map((extra) => ({ ...extra, ...task }) as Record<string, unknown>));

/** A hostile file: bytes, and the id its name announces. */
interface HostileFile {
  what: string;
  id: string;
  bytes: Buffer;
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value, null, 2));
const notAnId = fc.oneof(
  fc.constantFrom("", "_leading", "-leading", ".hidden", "a/b", "../up", "a b", "x".repeat(129), "ünïcode", "a\u0000b"),
  fc.string({ minLength: 1, maxLength: 20 }).filter((id) => !/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(id)),
);
const anyJson = fc.jsonValue({ maxDepth: 2 });

const hostileFile: fc.Arbitrary<HostileFile> = fc.oneof(
  // A known field with a value of the wrong kind.
  fc
    .tuple(validTask, fc.constantFrom(...KNOWN_FIELDS.filter((field) => field !== "task_id")), anyJson)
    .map(([task, field, value]) => ({ task, field, broken: { ...task, [field]: value } }))
    // `{}` is a fine `output`: only values the schema refuses are hostile.
    .filter(({ broken }) => !TaskSchema.safeParse(broken).success)
    .map(({ task, field, broken }) => ({ what: `wrong type for ${field}`, id: String(task.task_id), bytes: encode(broken) })),
  // A required field missing.
  fc.tuple(validTask, fc.constantFrom(...REQUIRED_FIELDS.filter((field) => field !== "task_id"))).map(([task, field]) => {
    const broken = { ...task };
    delete broken[field];
    return { what: `no ${field}`, id: String(task.task_id), bytes: encode(broken) };
  }),
  // An id that is not one, in the file and in its name alike.
  fc.tuple(validTask, notAnId).map(([task, id]) => ({ what: `bad id ${JSON.stringify(id)}`, id: id.replaceAll("/", "_").replaceAll("\u0000", "_") || "empty", bytes: encode({ ...task, task_id: id }) })),
  // The file's name and its task_id disagree.
  fc.tuple(validTask, taskId).filter(([task, other]) => task.task_id !== other).map(([task, other]) => ({ what: "name and id disagree", id: other, bytes: encode(task) })),
  // Cut anywhere: what an app that writes in place leaves for an instant.
  fc.tuple(validTask, fc.double({ min: 0, max: 0.999, noNaN: true })).map(([task, share]) => {
    const whole = encode(task);
    return { what: "truncated", id: String(task.task_id), bytes: whole.subarray(0, Math.floor(whole.length * share)) };
  }),
  // Bytes that are not UTF-8, in a string value.
  fc.tuple(validTask, fc.constantFrom(0xff, 0xfe, 0xc0, 0x80)).map(([task, byte]) => {
    const whole = encode({ ...task, requested_by: "MARK" });
    const at = whole.indexOf("MARK");
    return { what: `byte 0x${byte.toString(16)}`, id: String(task.task_id), bytes: Buffer.concat([whole.subarray(0, at), Buffer.from([byte]), whole.subarray(at + 4)]) };
  }),
  // JSON that is not an object.
  fc.tuple(taskId, fc.oneof(fc.constant(null), fc.integer(), fc.string(), fc.array(anyJson, { maxLength: 3 }))).map(([id, value]) => ({ what: "not an object", id, bytes: encode(value) })),
  // Nested far deeper than any task needs, in a field the app owns.
  fc.tuple(validTask, fc.integer({ min: 65, max: 20_000 })).map(([task, depth]) => ({
    what: `nested ${depth} deep`,
    id: String(task.task_id),
    bytes: Buffer.from(JSON.stringify({ ...task, app_state: "@@" }).replace('"@@"', `${"[".repeat(depth)}${"]".repeat(depth)}`)),
  })),
  // Past the size limit, in one huge string.
  fc.tuple(validTask, fc.integer({ min: 1, max: 3 })).map(([task, extraMiB]) => ({
    what: "over the size limit",
    id: String(task.task_id),
    bytes: encode({ ...task, notes: "x".repeat(TASK_FILE_MAX_BYTES + extraMiB * 1024) }),
  })),
);

describe("task file properties", { timeout: 60_000 }, () => {
  let root: string;
  before(() => (root = mkdtempSync(path.join(tmpdir(), "sophia-props-"))));
  after(() => rmSync(root, { recursive: true, force: true }));

  let runs = 0;
  /** A fresh workspace per run, with these files in tasks/. */
  function storeWith(files: Array<{ name: string; bytes: Buffer }>): TaskStore {
    const workspace = new Workspace(path.join(root, `run${runs++}`, "workspace"));
    mkdirSync(workspace.tasksDir, { recursive: true });
    for (const { name, bytes } of files) writeFileSync(path.join(workspace.tasksDir, name), bytes);
    return new TaskStore(workspace);
  }

  test("every valid task file is read as written, and a transition keeps every field the app added", async () => {
    await fc.assert(
      fc.asyncProperty(validTask, async (task) => {
        const name = `20260206_${String(task.task_id)}.task.json`;
        const store = storeWith([{ name, bytes: encode(task) }]);
        const [entry, ...rest] = await store.list();
        assert.equal(rest.length, 0);
        assert.ok(entry?.ok, entry && !entry.ok ? entry.error.message : "listed");
        assert.deepEqual(entry.stored.raw, JSON.parse(JSON.stringify(task)));
        const transition = (["cancel", "retry"] as const).find((name) => canTransition(name, entry.stored.task.status));
        if (!transition) return;
        const after = await store.transition(entry.file, transition);
        const onDisk = JSON.parse(readFileSync(entry.file, "utf8")) as Record<string, unknown>;
        for (const [field, value] of Object.entries(task)) if (!KNOWN_FIELDS.includes(field)) assert.deepEqual(onDisk[field], JSON.parse(JSON.stringify(value)), `${field} kept`);
        assert.deepEqual(onDisk, after.raw);
      }),
      { numRuns: RUNS },
    );
  });

  test("hostile task files never crash the loader: each gets exactly one clear, one-line error naming it", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(hostileFile, { minLength: 1, maxLength: 4 }), async (hostile) => {
        const files = hostile.map((file, k) => ({ ...file, name: `2026020${k}_${file.id}.task.json` }));
        const store = storeWith(files);
        const entries = await store.list();
        assert.equal(entries.length, taskFolder(store.workspace.tasksDir).length, "one entry per file");
        for (const entry of entries) {
          const file = files.find(({ name }) => path.join(store.workspace.tasksDir, name) === entry.file);
          assert.ok(file, `listed ${entry.file}`);
          assert.ok(!entry.ok, `${file.what}: refused (${entry.ok ? JSON.stringify(entry.stored.raw).slice(0, 200) : ""})`);
          assert.ok(entry.error instanceof SophiaError && entry.error.code === "task_invalid", `${file.what}: ${entry.error.code} ${entry.error.message}`);
          assert.ok(!/[\n\r]/.test(entry.error.message), `${file.what}: one line: ${entry.error.message}`);
          assert.ok(entry.error.message.includes(path.basename(entry.file)), `${file.what}: names the file: ${entry.error.message}`);
          assert.ok(entry.error.message.length < 2_000, `${file.what}: short enough to read (${entry.error.message.length} characters)`);
          await assert.rejects(store.read(entry.file), (error) => error instanceof SophiaError && error.message === entry.error.message, "reading it alone says the same");
        }
      }),
      { numRuns: RUNS },
    );
  });

  test("the generator of valid files makes only files the schema accepts", () => {
    fc.assert(fc.property(validTask, (task) => TaskSchema.safeParse(task).success), { numRuns: RUNS });
  });
});
