// The import rules of core/app (`npm run lint` runs them): no cycle, and every import points down
// the layers. From the top:
//   cli/                               the shell: parses flags, prints
//   index, interfaces, open_workspace,  the facade and its use cases
//   start_runner, control, follow_events, task_progress
//   runner/                            runner, scheduler, recovery, output owners, queue
//   stages/                            what a task's pipeline runs, and the pipeline's outputs
//   engines/ refine/ subtitles/ threads/   the rooms a stage uses
//   task/store/ task/events/           the only owners of task files and of the event stream
//   task/model/                        the task: schema, status, lifecycle, names, paths
//   errors, atomic_write, config, ...  shared helpers at the root of core/app: import no folder
// Type-only imports count (tsPreCompilationDeps): a cycle of types is still a cycle a reader walks.
const FACADE = "^core/app/(index|interfaces|open_workspace|start_runner|control|follow_events|task_progress)\\.ts$";
const HELPERS = "^core/app/(errors|atomic_write|bounded_read|config|file_exists|fs_errors|option_errors|transcript|utf8_file)\\.ts$";

/** A module of `from` may not import a module of `to`. */
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to: { path: to } });

module.exports = {
  forbidden: [
    { name: "no-circular", comment: "An import cycle: break it by moving what both sides need down a layer.", severity: "error", from: {}, to: { circular: true } },
    forbid("no-cli-below", "Only the CLI imports the CLI.", "^core/app/(?!cli/)", "^core/app/cli/"),
    forbid("no-facade-below", "The facade (interfaces, open_workspace, ...) sits above every folder but cli/: nothing below imports it.", "^core/app/(runner|stages|engines|refine|subtitles|threads|task)/", FACADE),
    forbid("runner-over-stages", "The runner runs stages; a stage never reaches back into the runner.", "^core/app/(stages|engines|refine|subtitles|threads|task)/", "^core/app/runner/"),
    forbid("stages-over-rooms", "Stages use engines, refine and subtitles; those never know about stages.", "^core/app/(engines|refine|subtitles|threads|task)/", "^core/app/stages/"),
    forbid("task-below-rooms", "The task system is the base: it knows no engine, refine rule or subtitle writer's internals.", "^core/app/task/", "^core/app/(engines|refine)/"),
    forbid("stages-never-touch-task-files", "Stages get what they need and return what they made; only the runner touches task files and events (STYLE.md, habit 3).", "^core/app/stages/", "^core/app/task/(store|events)/"),
    forbid("model-is-the-floor", "The task model holds data and rules, no storage and no event stream.", "^core/app/task/model/", "^core/app/task/(store|events)/"),
    forbid("events-apart-from-store", "The event stream and the task store are two owners of two kinds of file.", "^core/app/task/events/", "^core/app/task/store/"),
    forbid("store-apart-from-events", "The event stream and the task store are two owners of two kinds of file.", "^core/app/task/store/", "^core/app/task/events/"),
    forbid("helpers-are-leaves", "The shared helpers at the root of core/app import no folder of it.", HELPERS, "^core/app/[^/]+/"),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(dist|node_modules)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { exportsFields: ["exports"], conditionNames: ["import", "require", "node", "default"], extensions: [".ts", ".js", ".d.ts"] },
  },
};
