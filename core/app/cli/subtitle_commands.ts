/** `check` and `refine`: the refine rules on any subtitle file, outside the task system. */
import path from "node:path";
import { Command } from "commander";
import { writeFileAtomically } from "../atomic_write.js";
import { SophiaError, asError, isSophiaError } from "../errors.js";
import { checkCues, LANGUAGE_CODE, languageOfScript, refineSegments, resolveRules, segmentsFromCues, summarize, type RefineRules } from "../refine/index.js";
import { SUBTITLE_FORMATS, formatOfFile, formatSubtitles, inputFormatOf, parseSubtitles, type Cue } from "../subtitles/index.js";
import { realPath } from "../task/model/workspace.js";
import { readUtf8File } from "../utf8_file.js";
import { ReadRefused } from "../bounded_read.js";
import { SRT_TIMING } from "../subtitles/srt.js";
import { scriptText } from "../refine/script_input.js";
import { printJson, type GlobalOptions } from "./context.js";
import { EXIT } from "./exit_codes.js";

interface RuleFlags {
  children?: boolean;
  language?: string;
  rules?: string;
}

const LANGUAGE_HELP = "language of the subtitles (de, es, zh, ja…): its line length and reading speed, and how its lines break; default English";

export function checkCommand(): Command {
  return new Command("check")
    .description("lint a subtitle file (SRT, or by extension VTT, ASS, TSV, JSON) against the subtitle rules; exit 1 when any cue breaks one")
    .argument("<file>", "subtitles to check")
    .option("--language <code>", LANGUAGE_HELP)
    .option("--children", "children's reading speed (17 characters per second in English)")
    .option("--rules <json>", 'rule settings as in config_snapshot.refine, e.g. \'{"max_chars_per_line": 37}\'')
    .action(async (file: string, flags: RuleFlags, command: Command) => {
      const { json } = command.optsWithGlobals<GlobalOptions>();
      const settings = ruleSettings(flags);
      const cues = await readSubtitles(file);
      const rules = rulesFor(settings, cues);
      const violations = checkCues(cues, rules);
      const summary = summarize(violations);
      const from = languageSource(settings, cues);
      const limits = { language: rules.language, language_from: from, max_chars_per_line: rules.max_chars_per_line, max_cps: rules.max_cps };
      const against = `${limits.max_chars_per_line} characters a line, ${limits.max_cps} a second`;
      // Latin-script text does not tell its language: a Spanish file must not pass quietly at English speeds.
      if (from === "assumed") process.stderr.write(`sophia-cli: no --language given: checked against the English limits (${against}); for another language's, give --language (es, de, fr, …)\n`);
      if (json) printJson({ file, cues: cues.length, rules: limits, violations, summary });
      else {
        for (const violation of violations) process.stdout.write(`${violation.message}\n`);
        const broken = Object.entries(summary).filter(([, count]) => count > 0);
        const language = from === "assumed" ? "English, assumed: no --language given" : from === "script" ? `${limits.language ?? "en"}, told by its script` : (limits.language ?? "en");
        process.stdout.write(`${file}: ${cues.length} cues, ${violations.length} violations${broken.length ? ` (${broken.map(([rule, count]) => `${rule} ${count}`).join(", ")})` : ""} [${language}: ${against}]\n`);
      }
      process.exitCode = violations.length > 0 ? EXIT.failed : EXIT.ok;
    });
}

export function refineCommand(): Command {
  return new Command("refine")
    .description("refine one subtitle file (one-off use, no task): re-segment, re-break and re-time it")
    .argument("<in>", "subtitles to refine (for example a raw SRT from asr; VTT, ASS, TSV, JSON by extension)")
    .option("--script <file>", "UTF-8 text of what is said: the output uses its words, exactly")
    .option("-o, --output <file>", `write here (atomically) instead of standard output, in the format its extension names: ${SUBTITLE_FORMATS.map((name) => `.${name}`).join(", ")}`)
    .option("--karaoke", "with -o file.ass: highlight each word as it is spoken")
    .option("--strict", "exit 1 when violations remain, as `check` does (the file is written either way)")
    .option("--language <code>", LANGUAGE_HELP)
    .option("--children", "children's reading speed (17 characters per second in English)")
    .option("--rules <json>", 'rule settings as in config_snapshot.refine, e.g. \'{"max_chars_per_line": 37}\'')
    .action(async (input: string, flags: RuleFlags & { script?: string; output?: string; strict?: boolean; karaoke?: boolean }, command: Command) => {
      const { json } = command.optsWithGlobals<GlobalOptions>();
      // Refused before any work: `-o x.ass` used to write SRT into it.
      const format = flags.output ? formatOfFile(flags.output, "--output") : "srt";
      const script = flags.script ? scriptText(await readInput(flags.script, "script"), `script ${flags.script}`) : undefined;
      if (flags.output && realPath(path.resolve(flags.output)) === realPath(path.resolve(input))) {
        throw new SophiaError("output_clobbers_input", `--output is the input file ${input}; inputs are never overwritten: choose another path`);
      }
      const settings = ruleSettings(flags);
      const cues = await readSubtitles(input);
      const rules = rulesFor(settings, cues);
      const result = refineSegments(segmentsFromCues(cues, rules.language), rules, { script });
      const text = formatSubtitles(format, result.cues, { karaoke: flags.karaoke === true, language: rules.language });
      // The user named this file: a link there is followed, as cp would, to the file it points to.
      if (flags.output) await writeFileAtomically(realPath(path.resolve(flags.output)), text);
      else process.stdout.write(text);
      const report = { cues: result.cues.length, violations: result.violations, alignment: result.alignment };
      if (json && flags.output) printJson(report);
      else process.stderr.write(`refined: ${report.cues} cues; remaining violations: ${JSON.stringify(report.violations)}\n`);
      // Without --strict, a written file is success: what the rules could not meet is reported, as the refine stage does.
      const remaining = Object.values(report.violations).reduce((sum, count) => sum + count, 0);
      process.exitCode = flags.strict && remaining > 0 ? EXIT.failed : EXIT.ok;
    });
}

/** `--rules` with `--children` and `--language` laid over it. */
function ruleSettings(flags: RuleFlags): Record<string, unknown> {
  let settings: unknown = {};
  if (flags.rules) {
    try {
      settings = JSON.parse(flags.rules);
    } catch (error) {
      throw new SophiaError("usage", `--rules is not JSON: ${asError(error).message}`);
    }
    if (typeof settings !== "object" || settings === null || Array.isArray(settings)) throw new SophiaError("usage", "--rules must be a JSON object, e.g. '{\"max_chars_per_line\": 37}'");
  }
  if (flags.language !== undefined && !LANGUAGE_CODE.test(flags.language)) throw new SophiaError("usage", `--language "${flags.language}" is not a language code: use one such as de, zh or pt-BR`);
  return { ...(settings as Record<string, unknown>), ...(flags.children ? { children: true } : {}), ...(flags.language ? { language: flags.language } : {}) };
}

/** Where the limits' language came from: --language (or --rules), the text's script, or nothing (English assumed). */
function languageSource(settings: Record<string, unknown>, cues: readonly Cue[]): "given" | "script" | "assumed" {
  if (typeof settings.language === "string") return "given";
  return languageOfScript(cues.map((cue) => cue.lines.join(" ")).join(" ")) !== null ? "script" : "assumed";
}

/** Without a language given, the file's script may tell one (Chinese, Japanese, Korean, Thai); otherwise English. */
function rulesFor(settings: Record<string, unknown>, cues: readonly Cue[]): RefineRules {
  return resolveRules(settings, "--rules", languageOfScript(cues.map((cue) => cue.lines.join(" ")).join(" ")));
}


/** The cues of an SRT file; a file that is not text, or text without a single cue timing, is not a subtitle file. */
/** A subtitle file as its extension says (SRT for any other), or a clear "not a subtitle file". */
async function readSubtitles(file: string): Promise<Cue[]> {
  const format = inputFormatOf(file);
  const code = format === "srt" ? "srt_invalid" : "subtitles_invalid";
  const notSubtitles = (why: string) => new SophiaError(code, `${file} is not a subtitle file (${format.toUpperCase()}): ${why}`, { details: { path: path.resolve(file) } });
  const text = await readUtf8File(path.resolve(file), `subtitle file ${file}`, { unreadable: "usage", invalid: code }).catch((error: unknown) => {
    // A FIFO, a folder or a file over the limit says so itself; only bytes that are not UTF-8 are "not text".
    throw isSophiaError(error, code) && !(error.cause instanceof ReadRefused) ? notSubtitles("it is not text") : error;
  });
  if (format === "srt" && text.trim() !== "" && !SRT_TIMING.test(text)) throw notSubtitles('it has no cue timings ("00:00:01,000 --> 00:00:02,500")');
  return parseSubtitles(text, file);
}

function readInput(file: string, what: string): Promise<string> {
  return readUtf8File(path.resolve(file), `${what} ${file}`, { unreadable: "usage", invalid: "usage" });
}
