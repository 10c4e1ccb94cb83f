/**
 * Benchmark: a script at audiobook scale (issue 23). The English corpus sonnet readings, read one
 * after the other with a short pause and looped until the given minutes (whole readings only;
 * bench/long_media.py), and as the script their texts looped the same way: what a user with an
 * audiobook chapter and its text gives. Each length runs through the real CLI as a new user would,
 * `submit … --script … --model tiny.en --language en`, then `run --task`, and prints:
 *
 *  - asr and refine wall time (from their stage.completed events) and the ratio refine / asr: the
 *    two stages of one task, so measured side by side under the same load (goal: at most 0.25);
 *  - the longest stretch refine went without a progress event (the app's bar frozen);
 *  - the peak RSS of the CLI and its worker, each alone and summed (bench/process_memory.ts);
 *  - WER of the refined subtitles against the script (goal: 0), the alignment summary;
 *  - cue starts against the corpus onsets (test/fixtures/corpus_onsets) of every reading: how many
 *    lines begin a cue, the mean and largest error, and how many are off by more than 0.5 s.
 *
 *   npm run --silent build && npm run bench:script-scale                  # 21 and 120 minutes
 *   npm run bench:script-scale -- --minutes 21                            # one length
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import type { AlignmentReport } from "../core/app/refine/index.js";
import { parseSrt } from "../core/app/subtitles/index.js";
import { collect, makeWorkspace, PROJECT, readEvents, startCli, VENV_PYTHON, wer } from "../test/support/harness.js";
import { CORPUS, corpusOnsets, cueStartErrors, type SpokenLine } from "../test/support/line_onsets.js";
import { watchMemory } from "./process_memory.js";

const READINGS = ["sonnet002", "sonnet003"];
const MAX_START_ERROR_SEC = 0.5;
const GOAL_RATIO = 0.25;
const GOAL_MIB = 600e6 / 2 ** 20;

const { values } = parseArgs({ options: { minutes: { type: "string", multiple: true, default: ["21", "120"] }, keep: { type: "boolean", default: false } } });
const LENGTHS = values.minutes.map(Number);
if (!LENGTHS.every((minutes) => minutes > 0)) throw new Error(`--minutes must be positive numbers, got ${values.minutes.join(", ")}`);

const env = { ...process.env, HF_HUB_OFFLINE: "1" };

interface Looped {
  media: string;
  script: string;
  lines: SpokenLine[];
  readings: number;
}

/** The looped reading, its script (the texts in the same order), and every line's onset in it. */
function buildLooped(dir: string, minutes: number): Looped {
  const media = path.join(dir, `looped-${minutes}min.mp3`);
  const sources = READINGS.map((name) => path.join(CORPUS, `${name}.mp3`));
  const out = execFileSync(VENV_PYTHON, [path.join(PROJECT, "bench", "long_media.py"), "--whole", media, String(minutes), ...sources], { env, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
  const starts = JSON.parse(out) as [number, number][];
  const texts = READINGS.map((name) => readFileSync(path.join(CORPUS, `${name}.txt`), "utf8").trim());
  const onsets = READINGS.map((name) => corpusOnsets(name).lines);
  const script = starts.map(([k]) => texts[k] as string).join("\n\n");
  const lines = starts.flatMap(([k, at]) => (onsets[k] as SpokenLine[]).map((line) => ({ text: line.text, onset: line.onset === null ? null : line.onset + at })));
  return { media, script, lines, readings: starts.length };
}

const mean = (values: readonly number[]) => values.reduce((sum, value) => sum + value, 0) / Math.max(1, values.length);

async function measure(minutes: number): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), "sophia-bench-script-"));
  const ws = makeWorkspace();
  try {
    process.stdout.write(`\n== ${minutes} min: building the looped reading…\n`);
    const looped = buildLooped(dir, minutes);
    const scriptFile = path.join(dir, "script.txt");
    writeFileSync(scriptFile, `${looped.script}\n`);
    const scriptWords = looped.script.split(/\s+/).filter(Boolean).length;
    process.stdout.write(`${looped.readings} readings, script ${scriptWords} words; load average before (1, 5, 15 min): ${loadavg().map((v) => v.toFixed(2)).join(", ")}\n`);
    const submitted = await collect(startCli(ws, ["submit", looped.media, "--script", scriptFile, "--model", "tiny.en", "--language", "en", "--id", "looped"]));
    if (submitted.code !== 0) throw new Error(`submit failed: ${submitted.stderr}`);
    const child = startCli(ws, ["run", "--task", "looped", "--no-progress"], values.keep ? { SOPHIA_KEEP_TMP: "1" } : {});
    const watch = watchMemory(child.pid as number);
    const result = await collect(child, 6 * 3600_000);
    const memory = watch.stop();
    if (result.code !== 0) throw new Error(`run failed: ${result.stderr}`);

    const events = readEvents(ws, "looped");
    const completed = (stage: string) => {
      const event = events.find((e) => e.type === "stage.completed" && e.payload.stage === stage);
      if (event?.type !== "stage.completed") throw new Error(`no stage.completed for ${stage}`);
      return event.payload;
    };
    const asrSec = completed("asr").duration_sec;
    const refineSec = completed("refine").duration_sec;
    const alignment = completed("refine").summary.alignment as AlignmentReport;
    const refineEvents = events.filter((e) => (e.type === "stage.started" || e.type === "stage.progress" || e.type === "stage.completed") && e.payload.stage === "refine");
    const refineTimes = refineEvents.map((e) => Date.parse(e.ts));
    const frozenSec = Math.max(0, ...refineTimes.slice(1).map((t, k) => (t - (refineTimes[k] as number)) / 1000));
    // Where refine's time went: each step is the time from its progress message to the next event.
    const steps = new Map<string, number>();
    refineEvents.forEach((e, k) => {
      const next = refineTimes[k + 1];
      if (next === undefined) return;
      const step = e.type === "stage.progress" ? e.payload.msg.replace(/\d+/g, "N") : e.type;
      steps.set(step, (steps.get(step) ?? 0) + (next - (refineTimes[k] as number)) / 1000);
    });
    const refinedDir = path.join(ws.dir, "outputs", "subtitles", "refined");
    const srt = readFileSync(path.join(refinedDir, readdirSync(refinedDir).find((name) => name.endsWith(".srt")) as string), "utf8");
    const cues = parseSrt(srt);
    const wordError = wer(looped.script, cues.map((cue) => cue.lines.join(" ")).join(" "));
    const errors = cueStartErrors(cues, looped.lines).map((e) => e.error);
    const withOnset = looped.lines.filter((line) => line.onset !== null).length;
    const python = Math.max(0, ...memory.processes.filter((p) => /python/.test(p.command)).map((p) => p.peakMiB));
    const node = Math.max(0, ...memory.processes.filter((p) => !/python/.test(p.command)).map((p) => p.peakMiB));

    process.stdout.write(`${minutes} min, tiny.en, ${looped.readings} readings, ${scriptWords} script words, ${cues.length} cues\n`);
    process.stdout.write(`  asr ${asrSec.toFixed(1)} s, refine ${refineSec.toFixed(1)} s: refine / asr ${(refineSec / asrSec).toFixed(3)} (goal ≤ ${GOAL_RATIO}: ${refineSec / asrSec <= GOAL_RATIO ? "met" : "NOT met"})\n`);
    process.stdout.write(`  refine's longest time without a progress event: ${frozenSec.toFixed(1)} s (${refineTimes.length} events)\n`);
    process.stdout.write(`  refine's steps: ${[...steps].map(([step, sec]) => `${step} ${sec.toFixed(1)} s`).join("; ")}\n`);
    process.stdout.write(`  peak RSS: worker ${python.toFixed(0)} MiB, CLI ${node.toFixed(0)} MiB, tree ${memory.treePeakMiB.toFixed(0)} MiB sampled (goal ≤ 600 MB: ${memory.treePeakMiB <= GOAL_MIB ? "met" : "NOT met"})\n`);
    process.stdout.write(`  WER against the script: ${wordError.toFixed(4)}\n`);
    process.stdout.write(
      `  alignment: match ratio ${alignment.match_ratio}, ${alignment.aligned_words} words force-aligned, ${alignment.heard_timed_words} timed where misheard, ${alignment.interpolated_words} interpolated, ${alignment.script_words_not_spoken} not spoken, ${alignment.speech_not_in_script_words} heard words not in the script, ${alignment.repeated_passages} repeated passages\n`,
    );
    process.stdout.write(
      `  cue starts: ${errors.length} of ${withOnset} lines with an onset begin a cue; error mean ${mean(errors).toFixed(3)} s, max ${Math.max(0, ...errors).toFixed(3)} s, ${errors.filter((e) => e > MAX_START_ERROR_SEC).length} over ${MAX_START_ERROR_SEC} s\n`,
    );
    process.stdout.write(`  load average after (1, 5, 15 min): ${loadavg().map((v) => v.toFixed(2)).join(", ")}\n`);
    if (values.keep) process.stdout.write(`  kept: ${ws.root} and ${dir}\n`);
  } finally {
    if (!values.keep) {
      rmSync(ws.root, { recursive: true, force: true });
      rmSync(dir, { recursive: true, force: true });
    }
  }
}

for (const minutes of LENGTHS) await measure(minutes);
