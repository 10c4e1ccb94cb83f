/** Configuration resolves in one place: an explicit setting, else the environment, else the default. */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import path from "node:path";
import { describe, test } from "node:test";
import { PACKAGE_DIR, VERSION, resolveSettings, venvPython } from "../../core/app/config.js";
import { isSophiaError } from "../../core/app/errors.js";

describe("settings", { timeout: 60_000 }, () => {
  test("defaults apply when neither an option nor the environment sets a value", () => {
    const settings = resolveSettings({}, {});
    assert.equal(settings.workspace, path.resolve("workspace"));
    assert.equal(settings.python, venvPython(PACKAGE_DIR));
    assert.equal(settings.keepTmp, false);
    assert.equal(settings.allowModelDownload, false);
    assert.equal(settings.concurrency, 1);
    assert.equal(settings.rescanIntervalSec, 5);
    assert.equal(settings.taskCache, true);
  });

  test("the task cache is off only when SOPHIA_TASK_CACHE says off, or the option does", () => {
    assert.equal(resolveSettings({}, { SOPHIA_TASK_CACHE: "off" }).taskCache, false);
    assert.equal(resolveSettings({}, { SOPHIA_TASK_CACHE: "on" }).taskCache, true);
    assert.equal(resolveSettings({ taskCache: true }, { SOPHIA_TASK_CACHE: "off" }).taskCache, true);
  });

  test("the environment overrides the defaults, and an explicit option overrides the environment", () => {
    const env = { SOPHIA_WORKSPACE: "/srv/ws", SOPHIA_PYTHON: "/opt/py/bin/python", SOPHIA_KEEP_TMP: "1", SOPHIA_ALLOW_MODEL_DOWNLOAD: "1" };
    const fromEnv = resolveSettings({}, env);
    assert.deepEqual([fromEnv.workspace, fromEnv.python, fromEnv.keepTmp, fromEnv.allowModelDownload], ["/srv/ws", "/opt/py/bin/python", true, true]);
    const explicit = resolveSettings({ workspace: "/tmp/other", python: "/usr/bin/python3", keepTmp: false, allowModelDownload: false }, env);
    assert.deepEqual([explicit.workspace, explicit.python, explicit.keepTmp, explicit.allowModelDownload], ["/tmp/other", "/usr/bin/python3", false, false]);
  });

  test("a setting that cannot work is refused with its value quoted", () => {
    assert.throws(
      () => resolveSettings({ concurrency: 0 }, {}),
      (error: unknown) => isSophiaError(error, "usage") && /concurrency .* got 0/.test(error.message),
    );
    assert.throws(() => resolveSettings({ rescanIntervalSec: 1.5 }, {}), /rescanIntervalSec .* got 1.5/);
  });

  test("a cluster is off by default, set by SOPHIA_CLUSTER or the option, and refused unless auto or host:port", { timeout: 10_000 }, () => {
    assert.equal(resolveSettings({}, {}).cluster, null);
    assert.deepEqual(resolveSettings({}, {}).clusterSharedPaths, []);
    const fromEnv = resolveSettings({}, { SOPHIA_CLUSTER: "head.local:6379", SOPHIA_CLUSTER_SHARED_PATHS: ["/mnt/media", "", "/srv/a"].join(path.delimiter) });
    assert.equal(fromEnv.cluster, "head.local:6379");
    assert.deepEqual(fromEnv.clusterSharedPaths, ["/mnt/media", "/srv/a"]);
    assert.equal(resolveSettings({ cluster: "auto" }, { SOPHIA_CLUSTER: "head.local:6379" }).cluster, "auto");
    for (const bad of ["ray://head:10001", "head", "head:port", ""]) {
      assert.throws(
        () => resolveSettings({ cluster: bad }, {}),
        (error: unknown) => isSophiaError(error, "usage") && error.message.includes(JSON.stringify(bad)),
        bad,
      );
    }
  });

  test("the package folder and version come from this module's location, not the current folder", () => {
    assert.ok(existsSync(path.join(PACKAGE_DIR, "package.json")));
    assert.match(VERSION, /^\d+\.\d+\.\d+/);
  });
});
