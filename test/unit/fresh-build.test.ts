/** The integration tests' refusal of a stale build: a source under core/ newer than its output in dist/, or without one. */
import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { staleBuildOf } from "../support/fresh_build.js";

describe("a stale build", { timeout: 30_000 }, () => {
  let project: string;
  const write = (file: string, at: number) => {
    const full = path.join(project, file);
    mkdirSync(path.dirname(full), { recursive: true });
    writeFileSync(full, "");
    utimesSync(full, at, at);
  };
  before(() => {
    project = mkdtempSync(path.join(tmpdir(), "sophia-build-"));
    write("core/app/a.ts", 1_000);
    write("core/app/a.d.ts", 9_000); // declarations are not built
    write("dist/core/app/a.js", 2_000);
    write("core/app/engines/worker.py", 1_000);
    write("dist/core/app/engines/worker.py", 2_000);
  });
  after(() => rmSync(project, { recursive: true, force: true }));

  test("a dist/ built after every source is current", () => {
    assert.equal(staleBuildOf(project), null);
  });

  test("a module edited after the build is named", () => {
    utimesSync(path.join(project, "core/app/a.ts"), 3_000, 3_000);
    assert.equal(staleBuildOf(project), "core/app/a.ts");
    utimesSync(path.join(project, "core/app/a.ts"), 1_000, 1_000);
  });

  test("a Python file edited after the build is named, and so is a new module never built", () => {
    utimesSync(path.join(project, "core/app/engines/worker.py"), 3_000, 3_000);
    assert.equal(staleBuildOf(project), "core/app/engines/worker.py");
    utimesSync(path.join(project, "core/app/engines/worker.py"), 1_000, 1_000);
    write("core/app/b.ts", 1_000);
    assert.equal(staleBuildOf(project), "core/app/b.ts");
  });
});
