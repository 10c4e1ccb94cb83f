/**
 * The `refine` stage: the word-level transcript (or, in a `["refine"]`-only pipeline, the raw SRT
 * at output.raw_srt) → professional subtitles at output.refined_srt, with the script's exact words
 * when the task gives input.script. The rules live in core/app/refine/.
 */
import { lstat, readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import { SophiaError } from "../errors.js";
import { readUtf8File } from "../utf8_file.js";
import { formatSrt, parseSrt, refineSegments, resolveRules, segmentsFromCues, type TimedSegment } from "../refine/index.js";
import { TranscriptSchema, type Transcript } from "../transcript.js";
import { TRANSCRIPT_FILE } from "./asr.js";
import type { PreflightContext, Stage, StageContext, StageResult } from "./stage.js";

export const refineStage: Stage = {
  name: "refine",
  after: ["asr"],
  async preflight({ task, paths, signal }: PreflightContext): Promise<void> {
    resolveRules(task.config_snapshot.refine);
    if (paths.script) await readScript(paths.script, task.input.script ?? "", signal);
    if (!task.pipeline.includes("asr")) {
      if (!(await exists(paths.rawSrt))) {
        throw new SophiaError("stage_input_missing", `refine without asr reads the raw SRT at ${paths.display(paths.rawSrt)}, which does not exist: run a task with asr first, or set output.raw_srt`, {});
      }
      await readRawSrt(paths.rawSrt, paths.display(paths.rawSrt), signal);
    }
  },

  async run({ task, paths, signal, progress }: StageContext): Promise<StageResult> {
    const rules = resolveRules(task.config_snapshot.refine);
    const script = paths.script ? await readScript(paths.script, task.input.script ?? "", signal) : undefined;
    progress(0, "reading the transcript");
    const { segments, language } = task.pipeline.includes("asr")
      ? await transcriptOf(paths.tmpDir)
      : { segments: await rawSrtSegments(paths.rawSrt, paths.display(paths.rawSrt), signal), language: null };
    signal.throwIfAborted();

    const result = refineSegments(segments, rules, { script, language, onProgress: progress });
    signal.throwIfAborted();
    await writeFileAtomically(paths.refinedSrt, formatSrt(result.cues));
    progress(1, `${result.cues.length} cues`);
    return {
      artifacts: [{ path: paths.refinedSrt, kind: "refined_srt" }],
      summary: { cues: result.cues.length, words: result.words, violations: result.violations, alignment: result.alignment, cleaning: result.cleaning },
    };
  },
};

/** The word-level transcript asr left in this task's _tmp folder. */
async function transcriptOf(tmpDir: string): Promise<Transcript> {
  return TranscriptSchema.parse(JSON.parse(await readFile(path.join(tmpDir, TRANSCRIPT_FILE), "utf8")));
}

/** Without asr in the pipeline: the raw SRT's cues, their words timed in proportion to length. */
async function rawSrtSegments(rawSrt: string, shown: string, signal: AbortSignal): Promise<TimedSegment[]> {
  return segmentsFromCues(parseSrt(await readRawSrt(rawSrt, shown, signal), shown));
}

function readRawSrt(absolute: string, shown: string, signal: AbortSignal): Promise<string> {
  return readUtf8File(absolute, `output.raw_srt "${shown}"`, { unreadable: "stage_input_missing", invalid: "srt_invalid" }, signal);
}

function readScript(absolute: string, asWritten: string, signal: AbortSignal): Promise<string> {
  return readUtf8File(absolute, `input.script "${asWritten}"`, { unreadable: "script_missing", invalid: "script_invalid" }, signal);
}

async function exists(absolute: string): Promise<boolean> {
  return (await lstat(absolute).catch(() => null)) !== null;
}
