/**
 * Refine in other languages, measured on the fixtures (test/fixtures/refine/: the German and
 * Spanish corpus readings as Whisper base heard them, their raw SRTs, a Chinese SRT): per file,
 * the breaches of the language's own rules and the lines (but a cue's last) that end in an article,
 * determiner or preposition, side by side with the language ignored (English limits and breaking),
 * which is what refine did before it knew languages.
 *
 *   npm run bench:refine-languages
 */
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { checkCues, refineSegments, resolveRules, segmentsFromCues, type RefineRules, type TimedSegment } from "../core/app/refine/index.js";
import { parseSrt, type Cue } from "../core/app/subtitles/index.js";
import { TranscriptSchema } from "../core/app/transcript.js";

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../test/fixtures/refine");
/** Words no line should end with, in the fixtures' languages (a sample of function_words.ts, to count by). */
const BAD_LINE_END = / (der|die|das|den|dem|des|ein|eine|einen|einem|mit|von|zu|el|la|los|las|un|una|unos|de|del|al|a|en|con|por|para|mi|su|algunas|的)$/i;

interface Input {
  name: string;
  language: string;
  /** Words with their times (a transcript), or an SRT's cues. */
  segments(language: string | null): TimedSegment[];
  /** What the file already breaks, for an SRT given as is. */
  given?: Cue[];
}

function transcript(file: string, language: string): Input {
  const { segments } = TranscriptSchema.parse(JSON.parse(readFileSync(path.join(FIXTURES, file), "utf8")));
  return { name: file, language, segments: () => segments };
}

function srt(file: string, language: string): Input {
  const cues = parseSrt(readFileSync(path.join(FIXTURES, file), "utf8"), file);
  return { name: file, language, segments: (as) => segmentsFromCues(cues, as), given: cues };
}

function measure(cues: readonly Cue[], rules: RefineRules): string {
  const breaches = checkCues(cues, rules);
  const byRule = [...new Set(breaches.map((v) => v.rule))].map((rule) => `${rule} ${breaches.filter((v) => v.rule === rule).length}`).join(", ");
  const badEnds = cues.flatMap((cue) => cue.lines.slice(0, -1)).filter((line) => BAD_LINE_END.test(line)).length;
  return `${String(cues.length).padStart(3)} cues, ${String(breaches.length).padStart(2)} breaches${byRule ? ` (${byRule})` : ""}, ${badEnds} bad line ends`;
}

const inputs = [
  transcript("reading_de.transcript.json", "de"),
  transcript("reading_es.transcript.json", "es"),
  srt("reading_de.raw.srt", "de"),
  srt("reading_es.raw.srt", "es"),
  srt("talk_zh.srt", "zh"),
];
for (const input of inputs) {
  const own = resolveRules({}, "bench", input.language);
  // English limits and English breaking: the language ignored.
  const ignored = refineSegments(input.segments(null), resolveRules({}, "bench", "en")).cues;
  const refined = refineSegments(input.segments(input.language), own).cues;
  console.log(`${input.name} (${input.language}: ${own.max_chars_per_line} characters a line, ${own.max_cps} a second)`);
  if (input.given) console.log(`  ${"as given:".padEnd(18)}${measure(input.given, own)}`);
  console.log(`  ${"language ignored:".padEnd(18)}${measure(ignored, own)}`);
  console.log(`  ${`${input.language} rules:`.padEnd(18)}${measure(refined, own)}`);
}
