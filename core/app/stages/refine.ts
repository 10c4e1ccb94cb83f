/**
 * The `refine` stage: the word-level transcript (or, in a `["refine"]`-only pipeline, the raw SRT
 * at output.raw_srt) → professional subtitles at output.refined_srt and beside it in each of
 * output.formats, with the script's words when the task gives input.script. The rules live in
 * core/app/refine/, the formats in core/app/subtitles/; between refine's two pure halves the engine
 * times the script words nobody heard on the audio (forced alignment), when there is media.
 */
import { writeFileAtomically } from "../atomic_write.js";
import { assertFileExists } from "../file_exists.js";
import { scriptText } from "../refine/script_input.js";
import { readUtf8File } from "../utf8_file.js";
import { resolveEngineConfig, type EngineRegistry } from "../engines/registry.js";
import { alignWindows, gapTimesOf, languageOfScript, resolveRules, segmentsFromCues, type GapTimes, type RefinePlan } from "../refine/index.js";
import { formatSubtitles, parseSrt, type Cue } from "../subtitles/index.js";
import type { Task } from "../task/model/schema.js";
import type * as RefineJobs from "../refine/refine.js";
import { jobOf, runOffThread } from "../threads/off_thread.js";
import { readTranscript } from "./transcript_handoff.js";
import type { Artifact, PreflightContext, Stage, StageContext, StageResult } from "./stage.js";

/**
 * The refine itself runs in a worker thread: for hours of speech it is seconds to minutes of CPU,
 * which on the main thread would hold up the cancel watchdog and progress; abort ends the thread.
 */
const REFINE_JOBS = new URL("../refine/refine.js", import.meta.url);
const PLAN_JOB = jobOf<typeof RefineJobs>()(REFINE_JOBS, "planRefineJob");
/** The share of the progress bar the engine's alignment of the script's gaps takes, and where it starts. */
const ALIGNING_FROM = 0.3;
const ALIGNING_TO = 0.85;
/** Up to a few minutes of speech: refined on the main thread (see `inline` in run). */
const INLINE_MAX_WORDS = 500;
const INLINE_MAX_SCRIPT_CHARS = 5_000;
const FINISH_JOB = jobOf<typeof RefineJobs>()(REFINE_JOBS, "finishRefineJob");

export function createRefineStage(engines: EngineRegistry): Stage {
  return {
    name: "refine",
    after: ["asr"],
    outputs: (paths) => paths.refined,
    skipReason: (task) => (task.config_snapshot.refine?.enabled === false ? "config_snapshot.refine.enabled is false" : null),
    async preflight({ task, paths, signal }: PreflightContext): Promise<void> {
      resolveRules(task.config_snapshot.refine);
      if (paths.script) await readScript(paths.script, task.input.script ?? "", signal);
      if (!task.pipeline.includes("asr")) {
        await assertFileExists(paths.rawSrt, `output.raw_srt "${paths.display(paths.rawSrt)}"`, {
          missing: "stage_input_missing",
          notAFile: "srt_invalid",
          ifMissing: "refine without asr reads the raw SRT there: run a task with asr first, or set output.raw_srt",
        });
        await readRawSrt(paths.rawSrt, paths.display(paths.rawSrt), signal);
      }
    },

    async run({ task, paths, signal, progress }: StageContext): Promise<StageResult> {
      const script = paths.script ? await readScript(paths.script, task.input.script ?? "", signal) : undefined;
      progress(0, "reading the transcript");
      const transcript = task.pipeline.includes("asr") ? await readTranscript(paths.tmpDir) : null;
      const rawCues = transcript ? null : await rawSrtCues(paths.rawSrt, paths.display(paths.rawSrt), signal);
      // The transcript's language is that of its words (English when the engine translated).
      const language = transcript ? transcript.language : languageOfScript(cueText(rawCues ?? []));
      const rules = resolveRules(task.config_snapshot.refine, "config_snapshot.refine", language);
      const segments = transcript?.segments ?? segmentsFromCues(rawCues ?? [], rules.language);
      signal.throwIfAborted();

      const durationSec = transcript?.duration_sec ?? null;
      // A short transcript is refined in milliseconds, far less than a thread takes to start and load
      // the refine modules (seconds on a loaded machine): a queue of small tasks would wait on threads.
      const inline = segments.reduce((words, segment) => words + segment.words.length, 0) <= INLINE_MAX_WORDS && (script?.length ?? 0) <= INLINE_MAX_SCRIPT_CHARS;
      // asr's coverage step put its words' starts where the VAD hears speech start (spec §4.1): refine's pace guess is for words from a raw SRT.
      const onsetsFromAudio = transcript?.coverage !== undefined;
      const plan = await runOffThread(PLAN_JOB, { segments, rules, script, durationSec, onsetsFromAudio }, { signal, onProgress: progress, inline });
      // Without asr there is no heard media to align on: the script's gaps are interpolated, as a raw SRT's words are.
      const gapTimes = transcript ? await alignGaps(plan, { task, media: paths.media, language: transcript.language, signal, engines, progress }) : null;
      signal.throwIfAborted();
      const result = await runOffThread(FINISH_JOB, { plan, gapTimes, rules }, { signal, onProgress: progress, inline });
      signal.throwIfAborted();
      const artifacts: Artifact[] = [];
      const options = { karaoke: task.output?.ass?.karaoke === true, language: rules.language };
      for (const { format, path: file } of paths.refined) {
        // Not stopped between formats: they take milliseconds, and a cancel removes every one written.
        await writeFileAtomically(file, formatSubtitles(format, result.cues, options), { check: paths.assertWritable });
        artifacts.push({ path: file, kind: `refined_${format}` });
      }
      progress(1, `${result.cues.length} cues`);
      return {
        artifacts,
        summary: {
          cues: result.cues.length,
          words: result.words,
          // The limits the language chose (or the task set), so a reader of the summary knows what the violations are counted against.
          rules: { language: rules.language, max_chars_per_line: rules.max_chars_per_line, max_cps: rules.max_cps },
          violations: result.violations,
          alignment: result.alignment,
          cleaning: result.cleaning,
        },
      };
    },
  };
}

/**
 * The engine's forced alignment of the script's gaps on the audio, the gaps grouped in windows that
 * one encoder pass each can time (refine/align_windows.ts), with progress as windows are done.
 */
async function alignGaps(
  plan: RefinePlan,
  context: { task: Task; media: string; language: string | null; signal: AbortSignal; engines: EngineRegistry; progress: StageContext["progress"] },
): Promise<GapTimes[] | null> {
  const script = plan.script;
  const windows = script ? alignWindows(script) : [];
  if (!script || windows.length === 0) return null;
  const config = resolveEngineConfig(context.task.config_snapshot.engine);
  const missed = script.gaps.reduce((sum, gap) => sum + gap.last - gap.first + 1, 0);
  const what = `timing ${missed} script words the engine did not hear from the audio`;
  context.progress(ALIGNING_FROM, `${what}: ${windows.length} stretches`);
  const spans = windows.map((window) => ({ start: window.start, end: window.end, words: script.words.slice(window.first, window.last + 1).map((word) => word.text) }));
  const onProgress = (done: number, total: number) => context.progress(ALIGNING_FROM + ((ALIGNING_TO - ALIGNING_FROM) * done) / total, `${what}: ${done} of ${total} stretches`);
  const aligned = await context.engines.get(config.type).align({ media: context.media, config, language: context.language, spans }, { signal: context.signal, onProgress });
  return gapTimesOf(script, windows, aligned);
}

/** Without asr in the pipeline: the raw SRT's cues (their words are timed in proportion to length). */
async function rawSrtCues(rawSrt: string, shown: string, signal: AbortSignal): Promise<Cue[]> {
  return parseSrt(await readRawSrt(rawSrt, shown, signal), shown);
}

function cueText(cues: readonly Cue[]): string {
  return cues.map((cue) => cue.lines.join(" ")).join(" ");
}

function readRawSrt(absolute: string, shown: string, signal: AbortSignal): Promise<string> {
  return readUtf8File(absolute, `output.raw_srt "${shown}"`, { unreadable: "stage_input_missing", invalid: "srt_invalid" }, signal);
}

async function readScript(absolute: string, asWritten: string, signal: AbortSignal): Promise<string> {
  const what = `input.script "${asWritten}"`;
  return scriptText(await readUtf8File(absolute, what, { unreadable: "script_missing", invalid: "script_invalid" }, signal), what);
}
