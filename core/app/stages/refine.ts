/**
 * The `refine` stage: the word-level transcript (or, in a `["refine"]`-only pipeline, the raw SRT
 * at output.raw_srt) → professional subtitles at output.refined_srt, with the script's exact words
 * when the task gives input.script. The rules live in core/app/refine/.
 */
import { readFile, stat } from "node:fs/promises";
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
  async preflight({ task, paths }: PreflightContext): Promise<void> {
    resolveRules(task.config_snapshot.refine);
    if (paths.script) await readScript(paths.script, task.input.script ?? "");
    if (!task.pipeline.includes("asr") && !(await isFile(paths.rawSrt))) {
      throw new SophiaError("stage_input_missing", `refine without asr reads the raw SRT at ${paths.display(paths.rawSrt)}, which does not exist: run a task with asr first, or set output.raw_srt`, {});
    }
  },

  async run({ task, paths, signal, progress }: StageContext): Promise<StageResult> {
    const rules = resolveRules(task.config_snapshot.refine);
    const script = paths.script ? await readScript(paths.script, task.input.script ?? "") : undefined;
    progress(0, "reading the transcript");
    const { segments, language } = task.pipeline.includes("asr")
      ? await transcriptOf(paths.tmpDir)
      : { segments: await rawSrtSegments(paths.rawSrt, paths.display(paths.rawSrt)), language: null };
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
async function rawSrtSegments(rawSrt: string, shown: string): Promise<TimedSegment[]> {
  return segmentsFromCues(parseSrt(await readUtf8File(rawSrt, shown, { unreadable: "stage_input_missing", notUtf8: "srt_invalid" }), shown));
}

const SCRIPT_ERRORS = { unreadable: "script_missing", notUtf8: "script_invalid" } as const;

function readScript(absolute: string, asWritten: string): Promise<string> {
  return readUtf8File(absolute, `input.script "${asWritten}"`, SCRIPT_ERRORS);
}

async function isFile(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => null))?.isFile() ?? false;
}
