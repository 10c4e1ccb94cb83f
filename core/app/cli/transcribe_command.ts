/**
 * `sophia-cli transcribe talk.mp4 [more] -o ./subs -f srt,vtt --language de [--script talk.txt]`:
 * the subtitler's one command. Each file becomes a task in the workspace (its task file, events and
 * locks, so an app watching the workspace sees it), run here at once with progress on stderr; the
 * files written are printed on stdout, one per line. The subtitles go where -o says, inside the
 * workspace or not: naming the folder is the user's explicit choice (`output.outside_workspace`),
 * and every other output rule still holds.
 */
import path from "node:path";
import { Command } from "commander";
import { SophiaError, asError } from "../errors.js";
import type { RunResult, SophiaWorkspace, TaskInfo } from "../interfaces.js";
import type { SubtitleFormat } from "../subtitles/format_names.js";
import { openContext, printJson, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";
import { createProgressView } from "./progress_view.js";
import { narrate, onSignals } from "./run_command.js";
import { FORMAT_HELP, LANGUAGE_HELP, collectFormats, exitCodeOfStatus, mediaFiles, rulesOf, withRuleOptions, type RuleFlags } from "./task_commands.js";

interface TranscribeFlags extends RuleFlags {
  outputDir: string;
  format?: SubtitleFormat[];
  language?: string;
  model?: string;
  script?: string;
  translate?: boolean;
  overwrite?: boolean;
  progress: boolean;
}

export function transcribeCommand(): Command {
  return withRuleOptions(new Command("transcribe"))
    .description("subtitle media files in one command: each becomes a task in the workspace, run here with progress; prints the files written")
    .argument("<media...>", "audio or video files, or folders of them")
    .option("-o, --output-dir <dir>", "where the subtitles go, named after each media file (talk.mp4 → talk.srt); may be outside the workspace", ".")
    .option("-f, --format <formats>", FORMAT_HELP, collectFormats)
    .option("--language <code|name>", LANGUAGE_HELP)
    .option("--model <name|dir>", "faster_whisper model (`models` lists them; default: tiny.en for English, else base)")
    .option("--script <file>", "UTF-8 text of what is said: the subtitles use its words, exactly (one media file only)")
    .option("--translate", "English subtitles for speech in any language")
    .option("--overwrite", "replace subtitles that an earlier task wrote at the same path")
    .option("--no-progress", "no progress bars or stage lines on stderr")
    .action(async (paths: string[], flags: TranscribeFlags, command: Command) => {
      const { workspace, json } = openContext(command.optsWithGlobals<GlobalOptions>());
      const media = await mediaFiles(paths);
      if (media.length > 1 && flags.script !== undefined) throw new SophiaError("usage", `--script is the text of one recording, but ${media.length} media files were given: transcribe them one by one`);
      const outputDir = path.resolve(flags.outputDir);
      assertDistinctNames(media);
      const tasks = await submitAll(workspace, media, flags, outputDir);
      const view = createProgressView(flags.progress);
      const runner = workspace.startRunner({ tasks: tasks.map((task) => task.id) });
      narrate(runner, view, workspace.dir);
      const interrupted = onSignals(view, () => void runner.stop());
      try {
        const results = await runner.done;
        if (interrupted()) {
          process.exitCode = EXIT.interrupted;
          return;
        }
        // A task another runner took (an app's watching runner) is waited for: it ends all the same.
        const finished = await Promise.all(tasks.map((task) => (ranHere(results, task.id) ? workspace.get(task.id) : workspace.wait(task.id))));
        const written = await Promise.all(finished.map((task) => subtitlesWritten(workspace, task.id)));
        if (json) printJson(finished.map((task, i) => ({ task_id: task.id, status: task.status, files: written[i] })));
        else for (const file of written.flat()) process.stdout.write(`${file}\n`);
        process.exitCode = Math.max(...finished.map((task) => exitCodeOfStatus(task.status)));
      } finally {
        interrupted.dispose();
        view.stop();
      }
    });
}

/** Two media with one name (a/talk.mp4, b/talk.wav) would write one subtitle file: refused before any task. */
function assertDistinctNames(media: string[]): void {
  const seen = new Map<string, string>();
  for (const file of media) {
    const stem = path.basename(file, path.extname(file));
    const other = seen.get(stem);
    if (other !== undefined) throw new SophiaError("usage", `${other} and ${file} would both be subtitled as ${stem}.*: transcribe them into different -o folders`);
    seen.set(stem, file);
  }
}

/** Every file's task, or none: a file refused (no audio, an unknown model) cancels the ones queued before it. */
async function submitAll(workspace: SophiaWorkspace, media: string[], flags: TranscribeFlags, outputDir: string): Promise<TaskInfo[]> {
  const tasks: TaskInfo[] = [];
  try {
    for (const file of media) {
      tasks.push(
        await workspace.submit({
          media: file,
          script: flags.script ?? null,
          model: flags.model,
          language: flags.language,
          task: flags.translate ? "translate" : undefined,
          formats: flags.format,
          refinedSrt: path.join(outputDir, `${path.basename(file, path.extname(file))}.srt`),
          outsideWorkspace: true,
          overwrite: flags.overwrite,
          rules: rulesOf(flags),
        }),
      );
    }
  } catch (error) {
    for (const task of tasks) await workspace.cancel(task.id).catch(() => undefined);
    if (tasks.length > 0) process.stderr.write(`sophia-cli: nothing run: canceled the ${tasks.length} task(s) already queued (${tasks.map((task) => task.id).join(", ")})\n`);
    throw asError(error);
  }
  return tasks;
}

function ranHere(results: RunResult[], taskId: string): boolean {
  return results.some((result) => result.taskId === taskId && result.outcome !== "skipped");
}

/** The refined subtitles the task's last attempt wrote, absolute, from its `artifact.written` events. */
async function subtitlesWritten(workspace: SophiaWorkspace, taskId: string): Promise<string[]> {
  const root = path.dirname(workspace.dir);
  let files: string[] = [];
  for await (const event of workspace.followEvents({ task: taskId, follow: false })) {
    if (event.type === "task.started") files = [];
    if (event.type === "artifact.written" && event.payload.kind.startsWith("refined")) files.push(path.resolve(root, event.payload.path));
  }
  return files;
}
