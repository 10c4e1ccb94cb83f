/**
 * Benchmark: refining a two-hour transcript (about 20,000 words), with and without a script, next
 * to the time the ASR takes for the same two hours, measured in the same run.
 *
 * The ASR side transcribes about a minute of espeak-ng speech with the real engine and the bundled
 * tiny.en (bench/asr_speed.ts) and scales its real-time factor to two hours; tiny.en is the
 * fastest model there is, so the ratio printed is the least favourable one for refine.
 *
 *   npm run bench:refine
 */
import { refineSegments, resolveRules, type TimedSegment } from "../core/app/refine/index.js";
import { measureAsrSpeed } from "./asr_speed.js";
import { meetingSentences, seeded } from "./meeting_text.js";

const TARGET_SEC = 2 * 3600;
const WORDS_PER_SEC = 3.2; // about 20,000 words in two hours: a brisk talk
const RUNS = 3;

/** A two-hour transcript as Whisper would give it, and the script it was read from (with ~8% of words misheard). */
function twoHours(): { segments: TimedSegment[]; script: string; words: number } {
  const random = seeded(20261125);
  const script: string[] = [];
  const segments: TimedSegment[] = [];
  let at = 1;
  while (at < TARGET_SEC) {
    const text = meetingSentences(1 + Math.floor(random() * 2), random).join(" ");
    script.push(text);
    const words = text.split(" ").flatMap((word) => {
      const roll = random();
      const heard = word.toLowerCase().replace(/[^a-z0-9%']/g, "");
      const said = roll < 0.03 ? [] : roll < 0.06 ? ["uh", heard] : roll < 0.08 ? ["something"] : [heard];
      return said.map((w) => {
        const duration = (w.length + 1) / (WORDS_PER_SEC * 6);
        const timed = { text: w, start: at, end: at + duration, probability: 0.9 };
        at += duration + 0.02;
        return timed;
      });
    });
    segments.push({ words, no_speech_prob: 0.01, avg_logprob: -0.2 });
    at += 0.3 + random() * 1.2;
  }
  return { segments, script: script.join(" "), words: segments.reduce((sum, segment) => sum + segment.words.length, 0) };
}

function timeIt(run: () => void): number {
  const samples: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const started = performance.now();
    run();
    samples.push((performance.now() - started) / 1000);
  }
  return samples.sort((a, b) => a - b)[Math.floor(RUNS / 2)] as number;
}

async function main(): Promise<void> {
  const rules = resolveRules();
  const { segments, script, words } = twoHours();
  const spokenSec = (segments.at(-1)?.words.at(-1)?.end ?? 0) - 1;
  process.stdout.write(`transcript: ${words} words over ${(spokenSec / 3600).toFixed(2)} h\n`);

  let cues = 0;
  const plainSec = timeIt(() => (cues = refineSegments(segments, rules).cues.length));
  process.stdout.write(`refine without a script: ${plainSec.toFixed(2)} s (median of ${RUNS}), ${cues} cues\n`);
  let matchRatio = 0;
  const scriptSec = timeIt(() => (matchRatio = refineSegments(segments, rules, { script }).alignment?.match_ratio ?? 0));
  process.stdout.write(`refine with the script:  ${scriptSec.toFixed(2)} s (median of ${RUNS}), match ratio ${matchRatio.toFixed(3)}\n`);
  process.stdout.write(`peak memory (RSS): ${(process.resourceUsage().maxRSS / 1024).toFixed(0)} MB\n`);

  const asr = await measureAsrSpeed();
  const asrSec = asr.real_time_factor * spokenSec;
  process.stdout.write(
    `asr (faster_whisper tiny.en, int8, this machine): real-time factor ${asr.real_time_factor.toFixed(3)} on ${asr.media_sec.toFixed(0)} s of speech → ${(asrSec / 60).toFixed(1)} min for the same ${(spokenSec / 3600).toFixed(2)} h\n`,
  );
  process.stdout.write(`ratio refine / asr: ${(plainSec / asrSec).toFixed(4)} without a script, ${(scriptSec / asrSec).toFixed(4)} with it\n`);
}

await main();
