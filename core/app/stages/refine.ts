/**
 * The `refine` stage: the word-level transcript (or, in a `["refine"]`-only pipeline, the raw SRT
 * at output.raw_srt) → professional subtitles at output.refined_srt, with the script's exact words
 * when the task gives input.script. The rules live in core/app/refine/.
 */
import { readFile, stat } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import { SophiaError } from "../errors.js";
import { formatSrt, parseSrt, refineWords, resolveRules, wordsFromCues, type RefineRules } from "../refine/index.js";
import { TranscriptSchema, transcriptWords, type TimedWord } from "../transcript.js";
import { TRANSCRIPT_FILE } from "./asr.js";
import type { PreflightContext, Stage, StageContext, StageResult } from "./stage.js";

export const refineStage: Stage = {
  name: "refine",
  async preflight({ task, paths }: PreflightContext): Promise<void> {
    rulesOf(task.config_snapshot.refine);
    if (paths.script) await readScript(paths.script, task.input.script ?? "");
    if (!task.pipeline.includes("asr") && !(await isFile(paths.rawSrt))) {
      throw new SophiaError("stage_input_missing", `refine without asr reads the raw SRT at ${paths.display(paths.rawSrt)}, which does not exist: run a task with asr first, or set output.raw_srt`, {});
    }
  },

  async run({ task, paths, signal, progress }: StageContext): Promise<StageResult> {
    const rules = rulesOf(task.config_snapshot.refine);
    const script = paths.script ? await readScript(paths.script, task.input.script ?? "") : undefined;
    progress(0, "reading the transcript");
    const words = await loadWords(paths.tmpDir, paths.rawSrt);
    signal.throwIfAborted();

    progress(0.1, script ? `aligning ${words.length} words to the script` : `segmenting ${words.length} words`);
    const result = refineWords(words, rules, { script });
    await writeFileAtomically(paths.refinedSrt, formatSrt(result.cues));
    progress(1, `${result.cues.length} cues`);
    return {
      artifacts: [{ path: paths.refinedSrt, kind: "refined_srt" }],
      summary: { cues: result.cues.length, words: words.length, violations: result.violations, alignment: result.alignment },
    };
  },
};

function rulesOf(config: Record<string, unknown> | undefined): RefineRules {
  const { enabled: _enabled, ...rules } = config ?? {};
  return resolveRules(rules);
}

/** The transcript asr left in this task's _tmp folder, else words timed within the raw SRT's cues. */
async function loadWords(tmpDir: string, rawSrt: string): Promise<TimedWord[]> {
  const transcriptFile = path.join(tmpDir, TRANSCRIPT_FILE);
  if (await isFile(transcriptFile)) {
    return transcriptWords(TranscriptSchema.parse(JSON.parse(await readFile(transcriptFile, "utf8"))));
  }
  return wordsFromCues(parseSrt(await readFile(rawSrt, "utf8")));
}

async function readScript(absolute: string, asWritten: string): Promise<string> {
  try {
    return await readFile(absolute, "utf8");
  } catch (error) {
    throw new SophiaError("script_missing", `input.script "${asWritten}" cannot be read (${absolute}): ${(error as Error).message}`, { cause: error });
  }
}

async function isFile(absolute: string): Promise<boolean> {
  return (await stat(absolute).catch(() => null))?.isFile() ?? false;
}
