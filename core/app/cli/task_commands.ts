/** `submit`, `list`, `show`, `cancel`, `retry`: thin shells over the library (open_workspace.ts). */
import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { Command, InvalidArgumentError, Option } from "commander";
import { SophiaError, asError } from "../errors.js";
import type { SophiaWorkspace, TaskInfo, TaskListEntry } from "../interfaces.js";
import { SUBTITLE_FORMATS, isSubtitleFormat, type SubtitleFormat } from "../subtitles/format_names.js";
import { FINISHED_STATUSES, TASK_STATUSES, isFinished, type TaskStatus } from "../task/model/task_status.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";

interface SubmitFlags {
  script?: string;
  model?: string;
  language?: string;
  translate?: boolean;
  engineOptions?: Record<string, unknown>;
  id?: string;
  runId?: string;
  refine: boolean;
  outputDir?: string;
  format?: SubtitleFormat[];
  karaoke?: boolean;
  maxLineWidth?: number;
  maxLineCount?: number;
  maxCps?: number;
}

export function submitCommand(): Command {
  return withRuleOptions(new Command("submit"))
    .description("write a queued task (and its `task.created` event) for each media file; a folder means the media files in it")
    .argument("<media...>", "audio or video files, or folders of them")
    .option("--script <file>", "UTF-8 text of what is said: refine uses its words, exactly (one media file only)")
    .option("--model <name|dir>", "faster_whisper model (`models` lists them; default: tiny.en for --language en, else base)")
    .option("--language <code|name>", LANGUAGE_HELP)
    .option("--translate", "English subtitles for speech in any language (engine task \"translate\")")
    .option("--engine-options <json>", 'other engine options, as config_snapshot.engine (e.g. \'{"beam_size": 1}\')', jsonObject)
    .option("--output-dir <dir>", "write the subtitles into this folder inside the workspace (default: outputs/subtitles/raw and …/refined)")
    .option("--id <task_id>", "task id (one media file only; default: from the media name plus a random suffix)")
    .option("--run-id <run_id>", "run id carried by every event (default: random)")
    .option("--no-refine", "pipeline [asr] only")
    .option("--format <formats>", FORMAT_HELP, collectFormats)
    .option("--karaoke", "ASS output highlights each word as it is spoken")
    .action(async (paths: string[], flags: SubmitFlags, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const media = await mediaFiles(paths);
      if (media.length > 1 && (flags.id !== undefined || flags.script !== undefined)) {
        throw new SophiaError("usage", `--id and --script name one task, but ${media.length} media files were given: submit them one by one`);
      }
      const isNew = !workspace.exists;
      const submitted: TaskInfo[] = [];
      for (const file of media) {
        submitted.push(
          await workspace.submit({
            media: file,
            script: flags.script ?? null,
            model: flags.model,
            language: flags.language,
            task: flags.translate ? "translate" : undefined,
            engineOptions: flags.engineOptions,
            outputDir: flags.outputDir,
            taskId: flags.id,
            runId: flags.runId,
            refine: flags.refine,
            formats: flags.format,
            karaoke: flags.karaoke,
            rules: rulesOf(flags),
          }),
        );
      }
      if (isNew) process.stderr.write(`sophia-cli: created a new workspace at ${workspace.dir}\n`);
      const rows = submitted.map((info) => ({ file: info.file, task: info.raw }));
      if (json) printJson(paths.length === 1 && rows.length === 1 ? rows[0] : rows);
      else for (const info of submitted) process.stdout.write(`${info.id}\n`);
    });
}

export const FORMAT_HELP = `subtitle formats, repeatable or comma-separated: ${SUBTITLE_FORMATS.join(", ")}, or all (default: srt)`;
export const LANGUAGE_HELP = "the spoken language: a Whisper code (en, de, zh) or its name (English, German, Chinese); default: detected";

export interface RuleFlags {
  maxLineWidth?: number;
  maxLineCount?: number;
  maxCps?: number;
}

/** The subtitle rules a subtitler sets most, as whisper-ctranslate2 names them; the rest go in a task file's config_snapshot.refine. */
export function withRuleOptions(command: Command): Command {
  return command
    .option("--max-line-width <chars>", "characters per line (refine's max_chars_per_line; default: the language's, 42 in English)", positiveNumber(true))
    .option("--max-line-count <lines>", "lines per subtitle, 1 to 3 (max_lines; default 2)", positiveNumber(true))
    .option("--max-cps <chars>", "reading speed: characters per second (max_cps; default: the language's, 20 in English)", positiveNumber(false));
}

/** The flags given, as `config_snapshot.refine` keys; undefined when none was. */
export function rulesOf(flags: RuleFlags): Record<string, number> | undefined {
  const rules = {
    ...(flags.maxLineWidth !== undefined ? { max_chars_per_line: flags.maxLineWidth } : {}),
    ...(flags.maxLineCount !== undefined ? { max_lines: flags.maxLineCount } : {}),
    ...(flags.maxCps !== undefined ? { max_cps: flags.maxCps } : {}),
  };
  return Object.keys(rules).length > 0 ? rules : undefined;
}

function positiveNumber(whole: boolean): (value: string) => number {
  return (value) => {
    const parsed = Number(value);
    if (!Number.isFinite(parsed) || parsed <= 0 || (whole && !Number.isInteger(parsed))) throw new InvalidArgumentError(whole ? "must be a whole number above 0" : "must be a number above 0");
    return parsed;
  };
}

/** What `submit` looks for in a folder (not in its subfolders): the formats FFmpeg decodes that people record in. */
const MEDIA_EXTENSIONS = new Set([".wav", ".mp3", ".m4a", ".aac", ".flac", ".ogg", ".oga", ".opus", ".wma", ".aif", ".aiff", ".amr", ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".wmv", ".mpg", ".mpeg", ".ts", ".3gp"]);

/** Files as given, folders as the media files in them (by name); every path is checked before any task is written. */
export async function mediaFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const given of paths) {
    const info = await stat(given).catch(() => null);
    if (!info) throw new SophiaError("media_missing", `media ${path.resolve(given)} is not a file that exists`, { details: { path: path.resolve(given) } });
    if (!info.isDirectory()) {
      files.push(given);
      continue;
    }
    const found: string[] = [];
    for (const entry of await readdir(given, { withFileTypes: true })) {
      if (!MEDIA_EXTENSIONS.has(path.extname(entry.name).toLowerCase())) continue;
      const file = path.join(given, entry.name);
      if (entry.isFile() || (entry.isSymbolicLink() && (await isLinkToFile(file)))) found.push(file);
    }
    found.sort();
    if (found.length === 0) throw new SophiaError("media_missing", `folder ${path.resolve(given)} has no media files (looked for ${[...MEDIA_EXTENSIONS].join(" ")})`);
    files.push(...found);
  }
  return files;
}

/** A media file reached through a link is a media file; a link that leads nowhere is said, not skipped. */
async function isLinkToFile(link: string): Promise<boolean> {
  const target = await stat(link).catch(() => null);
  if (!target) throw new SophiaError("media_missing", `media ${path.resolve(link)} is a symbolic link to a file that does not exist`, { details: { path: path.resolve(link) } });
  return target.isFile();
}

function jsonObject(text: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new InvalidArgumentError(`not JSON: ${asError(error).message}`);
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) throw new InvalidArgumentError("expected a JSON object");
  return value as Record<string, unknown>;
}

export function listCommand(): Command {
  return new Command("list")
    .description("the tasks in the workspace, oldest first")
    .addOption(new Option("--status <status>", "only tasks with this status").choices(TASK_STATUSES))
    .action(async (options: { status?: TaskStatus }, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const rows = (await workspace.list()).filter((entry) => !options.status || (entry.valid && entry.status === options.status));
      if (json) {
        printJson(rows.map((entry) => (entry.valid ? { file: entry.file, task: entry.raw } : { file: entry.file, error: { code: entry.error.code, message: entry.error.message } })));
        return;
      }
      process.stdout.write(listTable(rows));
    });
}

export function showCommand(): Command {
  return new Command("show")
    .description("one task file, as stored: plain, its JSON alone (pipe it to jq); --json, {file, task}")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const info = await workspace.get(id);
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`${JSON.stringify(info.raw, null, 2)}\n`);
    });
}

export function cancelCommand(): Command {
  return new Command("cancel")
    .description("cancel a queued or running task; a running one stops and its partial outputs are removed")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const result = await workspace.cancel(id);
      if (json) printJson({ task_id: id, previous_status: result.previous, stopped: result.stopped });
      else if (!result.stopped) process.stdout.write(`canceled ${id}; its runner has not let go yet (it will stop at its next check)\n`);
      else process.stdout.write(`canceled ${id} (was ${result.previous})\n`);
    });
}

export function waitCommand(): Command {
  return new Command("wait")
    .description("wait until a task has finished, whichever runner runs it; exit with its outcome (0 done, 1 failed, 3 canceled)")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const controller = new AbortController();
      const stop = () => controller.abort(new SophiaError("interrupted", `stopped waiting for task ${id}; it goes on`));
      process.once("SIGINT", stop).once("SIGTERM", stop);
      const info = await workspace.wait(id, { signal: controller.signal });
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`${id} ${info.status}${info.status === "failed" && info.task.error ? `: ${info.task.error.message}` : ""}\n`);
      process.exitCode = exitCodeOfStatus(info.status);
    });
}

/** A finished task's status as `run --task` would end: 0 done, 1 failed, 3 canceled. */
export function exitCodeOfStatus(status: TaskStatus): number {
  if (status === "done") return EXIT.ok;
  return status === "canceled" ? EXIT.canceled : EXIT.failed;
}

export function removeCommand(): Command {
  return new Command("remove")
    .description("delete finished tasks' files (done, failed, canceled), each with a task.removed event; their subtitles stay unless --outputs")
    .argument("<id...>", "task ids")
    .option("--outputs", "also delete the files each task's last run wrote (not one another task still names)")
    .action(async (ids: string[], flags: { outputs?: boolean }, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      await removeEach(workspace, ids, flags.outputs === true, json);
    });
}

export function cleanCommand(): Command {
  return new Command("clean")
    .description("remove every finished task (or those with --status), as `remove` does: task files only unless --outputs")
    .addOption(new Option("--status <status>", "only tasks with this status").choices(FINISHED_STATUSES))
    .option("--outputs", "also delete the files each task's last run wrote (not one another task still names)")
    .action(async (flags: { status?: TaskStatus; outputs?: boolean }, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const finished = (await workspace.list()).filter((entry) => entry.valid && isFinished(entry.status) && (!flags.status || entry.status === flags.status));
      await removeEach(
        workspace,
        finished.map((entry) => entry.id),
        flags.outputs === true,
        json,
      );
    });
}

async function removeEach(workspace: SophiaWorkspace, ids: string[], outputs: boolean, json: boolean): Promise<void> {
  const removed: { task_id: string; status: TaskStatus; outputs_removed: string[] }[] = [];
  for (const id of ids) {
    const result = await workspace.remove(id, { outputs });
    removed.push({ task_id: id, status: result.task.status, outputs_removed: result.outputsRemoved });
    if (!json) process.stdout.write(`removed ${id} (${result.task.status})${result.outputsRemoved.length > 0 ? ` and ${result.outputsRemoved.join(", ")}` : ""}\n`);
  }
  if (json) printJson(removed);
  else if (ids.length === 0) process.stdout.write("no finished tasks to remove\n");
}

export function retryCommand(): Command {
  return new Command("retry")
    .description("queue a failed or canceled task again")
    .argument("<id>", "task id")
    .action(async (id: string, _options: object, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const info = await workspace.retry(id);
      if (json) printJson({ file: info.file, task: info.raw });
      else process.stdout.write(`queued ${id} again\n`);
    });
}

function listTable(rows: TaskListEntry[]): string {
  if (rows.length === 0) return "no tasks\n";
  const lines = rows.map((entry) => (entry.valid ? [entry.id, entry.status, entry.created_at, noteOf(entry)] : [entry.id, "invalid", "", entry.error.message]));
  return table([["TASK", "STATUS", "CREATED", "DETAIL"], ...lines]);
}

/** Running: the stage and how far; failed: why; otherwise the media. */
function noteOf(info: TaskInfo): string {
  if (info.status === "running") return progressText(info);
  if (info.status === "failed" && info.task.error) return info.task.error.message;
  return info.media;
}

export function progressText(info: TaskInfo): string {
  return info.progress ? `${info.progress.stage} ${Math.floor(info.progress.fraction * 100)}% ${info.progress.msg}`.trimEnd() : "starting";
}

/**
 * Columns padded to their widest cell; the last column is left as it is. Loops, not a map per row
 * and per column: `list` prints ten thousand rows, and its whole run is a fraction of a second.
 */
function table(rows: string[][]): string {
  const widths: number[] = [];
  for (const row of rows) {
    for (let column = 0; column < row.length - 1; column++) widths[column] = Math.max(widths[column] ?? 0, (row[column] as string).length);
  }
  let text = "";
  for (const row of rows) {
    let line = "";
    for (let column = 0; column < row.length; column++) {
      const cell = row[column] as string;
      line += column === row.length - 1 ? cell : `${cell.padEnd(widths[column] ?? 0)}  `;
    }
    text += `${line.trimEnd()}\n`;
  }
  return text;
}

/** `--format vtt --format ass` and `--format vtt,ass` alike; `all` is every format. */
export function collectFormats(value: string, previous: SubtitleFormat[] = []): SubtitleFormat[] {
  const names = value.split(",").map((name) => name.trim().toLowerCase()).filter((name) => name !== "").flatMap((name) => (name === "all" ? [...SUBTITLE_FORMATS] : [name]));
  const unknown = names.find((name) => !isSubtitleFormat(name));
  if (unknown !== undefined) throw new InvalidArgumentError(`"${unknown}" is not a subtitle format Sophia writes; use ${SUBTITLE_FORMATS.join(", ")}`);
  return [...new Set([...previous, ...(names as SubtitleFormat[])])];
}
