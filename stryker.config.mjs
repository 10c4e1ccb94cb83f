// Mutation testing (StrykerJS, `npm run mutate`): one module at a time, named by $SOPHIA_MUTATE,
// with only the fast unit tests that cover it (the tap runner runs each node:test file as one
// test; files that kill most mutants come first, since a run stops at the first failing file).
// Globs find a module by file name wherever it sits under core/app, so a move keeps them valid.
// Outside CI: it is slow. scripts/mutate runs the modules in turn and prints the scores.

/** @type {Record<string, { mutate: string[]; tests: string[] }>} */
export const MODULES = {
  lifecycle: { mutate: ["core/app/**/lifecycle.ts"], tests: ["test/unit/lifecycle.test.ts", "test/unit/store.test.ts", "test/unit/task-file-properties.test.ts", "test/unit/runner.test.ts"] },
  store: {
    mutate: ["core/app/**/store.ts"],
    tests: ["test/unit/store.test.ts", "test/unit/submit.test.ts", "test/unit/runner.test.ts", "test/unit/recovery.test.ts", "test/unit/output-owners.test.ts"],
  },
  runner: {
    mutate: ["core/app/**/runner.ts", "!core/app/**/start_runner.ts"],
    tests: ["test/unit/runner.test.ts", "test/unit/runner-cleanup.test.ts", "test/unit/runner-preflight.test.ts", "test/unit/runner-disk-full.test.ts", "test/unit/scheduler.test.ts"],
  },
  "output paths": { mutate: ["core/app/**/task_paths.ts"], tests: ["test/unit/task-paths.test.ts", "test/unit/output-owners.test.ts", "test/unit/runner-preflight.test.ts"] },
  // The rules and their checker. refine-properties.test.ts covers them too, but at 10–40 s a run it
  // is too slow to repeat for every mutant on a shared machine.
  "refine rules": { mutate: ["core/app/refine/check.ts", "core/app/refine/rules.ts"], tests: ["test/unit/refine-limits.test.ts", "test/unit/refine.test.ts"] },
  subtitles: { mutate: ["core/app/subtitles/**/*.ts"], tests: ["test/unit/subtitles.test.ts"] },
  scheduler: { mutate: ["core/app/**/scheduler.ts"], tests: ["test/unit/scheduler.test.ts"] },
  recovery: { mutate: ["core/app/**/recovery.ts"], tests: ["test/unit/recovery.test.ts", "test/unit/runner.test.ts"] },
  "event writer": { mutate: ["core/app/**/event_writer.ts"], tests: ["test/unit/event-writer.test.ts", "test/unit/submit.test.ts"] },
  "progress throttle": { mutate: ["core/app/**/progress_throttle.ts"], tests: ["test/unit/progress-throttle.test.ts", "test/unit/runner.test.ts"] },
};

export const moduleName = process.env.SOPHIA_MUTATE ?? "lifecycle";
const chosen = MODULES[moduleName];
if (!chosen) throw new Error(`SOPHIA_MUTATE=${moduleName}: not a module (${Object.keys(MODULES).join(", ")})`);
export const reportFile = `reports/mutation/${moduleName.replace(/ /g, "-")}.json`;

/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "tap",
  tap: { testFiles: chosen.tests, nodeArgs: ["--import", "tsx"] },
  mutate: chosen.mutate,
  coverageAnalysis: "perTest",
  // Two cores shared by everyone: one test process at a time.
  concurrency: 1,
  timeoutMS: 30_000,
  reporters: ["json", "clear-text", "progress"],
  jsonReporter: { fileName: reportFile },
  clearTextReporter: { allowColor: false, logTests: false, reportMutants: true, reportScoreTable: true },
  ignorePatterns: [".venv", "dist", "reports", "bench", "docs", "schemas"],
  tempDirName: ".stryker-tmp",
  cleanTempDir: true,
};
