/**
 * Advanced SubStation Alpha (ASS, "v4.00+"), as Aegisub, libass (mpv, VLC, ffmpeg) and stable-ts
 * read and write it: `[Script Info]`, `[V4+ Styles]` and `[Events]`, one `Dialogue:` line per cue,
 * times `h:mm:ss.cc` in centiseconds, line breaks as `\N`.
 *
 * Text escaping: a brace would open an override block, so `{` and `}` are written `\{` and `\}`
 * (libass's escapes). A backslash that would start an escape (`\N`, `\n`, `\h`, `\{`, `\}`) is
 * followed by an invisible WORD JOINER, so it shows as typed; the reader drops it again.
 *
 * Karaoke (`karaoke: true`, for cues that carry their words): every word gets a `{\kNN}` tag with
 * its duration in centiseconds, and every silence before a word an empty `{\kNN}` of its own, so
 * each word lights up (white → yellow, the Karaoke style's colours) when it is spoken. Durations
 * are differences of rounded absolute times, so rounding never accumulates along a cue.
 */
import { SophiaError } from "../errors.js";
import { formatClock, type Cue } from "./cue.js";

const WORD_JOINER = "\u2060";
const PLAY_RES = { x: 1920, y: 1080 };

const STYLE_FIELDS =
  "Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding";
// White text with a black outline and a soft shadow, bottom centre (alignment 2), 5% margins: the
// broadcast look. Colours are &HAABBGGRR. In karaoke, SecondaryColour is a word not yet spoken and
// PrimaryColour one that has been.
const DEFAULT_STYLE = "Default,Arial,64,&H00FFFFFF,&H000000FF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,3,1,2,96,96,54,1";
const KARAOKE_STYLE = "Karaoke,Arial,64,&H0000FFFF,&H00FFFFFF,&H00000000,&H80000000,0,0,0,0,100,100,0,0,1,3,1,2,96,96,54,1";
const EVENT_FIELDS = ["Layer", "Start", "End", "Style", "Name", "MarginL", "MarginR", "MarginV", "Effect", "Text"];

export interface AssOptions {
  /** Word-by-word highlight with `\k` tags, for cues that carry their words. */
  karaoke?: boolean;
}

export function formatAss(cues: readonly Cue[], options: AssOptions = {}): string {
  const style = options.karaoke ? "Karaoke" : "Default";
  const header = [
    "[Script Info]",
    "; Written by Sophia",
    "ScriptType: v4.00+",
    // 0: lines are only re-wrapped when one does not fit the screen; the cues' own breaks stand.
    "WrapStyle: 0",
    "ScaledBorderAndShadow: yes",
    `PlayResX: ${PLAY_RES.x}`,
    `PlayResY: ${PLAY_RES.y}`,
    "",
    "[V4+ Styles]",
    `Format: ${STYLE_FIELDS}`,
    `Style: ${options.karaoke ? KARAOKE_STYLE : DEFAULT_STYLE}`,
    "",
    "[Events]",
    `Format: ${EVENT_FIELDS.join(", ")}`,
  ];
  const events = cues.map((cue) => {
    const text = (options.karaoke && karaokeText(cue)) || cue.lines.map(escapeText).join("\\N");
    return `Dialogue: 0,${clock(cue.start)},${clock(cue.end)},${style},,0,0,0,,${text}`;
  });
  return `${[...header, ...events].join("\n")}\n`;
}

/** Reads the `Dialogue:` events of an ASS or SSA file; `\k` tags, when present, give the words their times. */
export function parseAss(text: string, source = "ASS input"): Cue[] {
  const rows = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let fields = EVENT_FIELDS;
  const cues: Cue[] = [];
  let sawSection = false;
  rows.forEach((row, index) => {
    const line = row.trim();
    if (/^\[(script info|v4\+? styles|events)\]$/i.test(line)) sawSection = true;
    const format = /^Format:\s*(.*)$/i.exec(line);
    if (format && /\bText\s*$/i.test(format[1] as string)) fields = (format[1] as string).split(",").map((field) => field.trim());
    const dialogue = /^Dialogue:\s*(.*)$/i.exec(line);
    if (!dialogue) return;
    const values = splitFields(dialogue[1] as string, fields.length);
    const value = (name: string) => values[fields.findIndex((field) => field.toLowerCase() === name.toLowerCase())];
    const start = parseClock(value("Start"));
    const end = parseClock(value("End"));
    const body = value("Text");
    if (start === null || end === null || body === undefined) {
      throw new SophiaError("subtitles_invalid", `${source} is not valid ASS: row ${index + 1} is a Dialogue line without a start, end or text`, { details: { source, row: index + 1 } });
    }
    cues.push(cueOfText(start, end, body));
  });
  if (!sawSection) throw new SophiaError("subtitles_invalid", `${source} is not valid ASS: it has no [Script Info] or [Events] section`, { details: { source } });
  return cues;
}

function clock(seconds: number): string {
  return formatClock(seconds, ".", 1, 2);
}

function parseClock(value: string | undefined): number | null {
  const match = /^(\d+):(\d{1,2}):(\d{1,2})(?:[.,](\d{1,3}))?$/.exec(value?.trim() ?? "");
  if (!match) return null;
  const [, h, m, s, fraction = "0"] = match;
  return ((Number(h) * 3600 + Number(m) * 60 + Number(s)) * 1000 + Number(fraction.padEnd(3, "0"))) / 1000;
}

/** The first `count - 1` commas separate fields; the last field (Text) keeps its commas. */
function splitFields(row: string, count: number): string[] {
  const values: string[] = [];
  let rest = row;
  while (values.length < count - 1) {
    const comma = rest.indexOf(",");
    if (comma < 0) break;
    values.push(rest.slice(0, comma).trim());
    rest = rest.slice(comma + 1);
  }
  values.push(rest);
  return values;
}

function escapeText(line: string): string {
  return line.replace(/\\(?=[Nnh{}])/g, `\\${WORD_JOINER}`).replace(/[{}]/g, (brace) => `\\${brace}`);
}

/**
 * Dialogue text with a `\k` tag per word and per silence, or null when the cue's words do not
 * spell its lines. Words are found in the lines in order, with or without spaces between them, so
 * languages written without spaces get their highlight too.
 */
function karaokeText(cue: Cue): string | null {
  const words = cue.words;
  if (!words || words.length === 0) return null;
  const centiseconds = (seconds: number) => Math.round(Math.round(Math.min(Math.max(seconds, cue.start), cue.end) * 1000) / 10);
  let at = centiseconds(cue.start);
  let next = 0;
  const lines: string[] = [];
  for (const line of cue.lines) {
    let text = "";
    let position = 0;
    for (;;) {
      const space = /^\s*/u.exec(line.slice(position))?.[0] ?? "";
      position += space.length;
      if (position >= line.length) break;
      const word = words[next];
      if (!word || !line.startsWith(word.text, position) || word.text === "") return null;
      const start = Math.max(at, centiseconds(word.start));
      const end = Math.max(start, centiseconds(word.end));
      text += `${space && text ? " " : ""}${start > at ? `{\\k${start - at}}` : ""}{\\k${end - start}}${escapeText(word.text)}`;
      at = end;
      position += word.text.length;
      next += 1;
    }
    lines.push(text);
  }
  return next === words.length ? lines.join("\\N") : null;
}

/** Plain lines from dialogue text (override blocks removed, escapes undone), and words timed by `\k` tags if any. */
function cueOfText(start: number, end: number, body: string): Cue {
  let text = "";
  const syllables: { text: string; start: number; end: number }[] = [];
  let karaokeAt = Math.round(start * 100);
  const open = (centiseconds: number) => {
    syllables.push({ text: "", start: karaokeAt / 100, end: (karaokeAt + centiseconds) / 100 });
    karaokeAt += centiseconds;
  };
  const append = (chars: string) => {
    text += chars;
    const last = syllables.at(-1);
    if (last) last.text += chars;
  };
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    const next = body[i + 1];
    if (char === "\\" && next === WORD_JOINER) {
      append("\\");
      i += 1;
    } else if (char === "\\" && (next === "{" || next === "}")) {
      append(next);
      i += 1;
    } else if (char === "\\" && (next === "N" || next === "n")) {
      append("\n");
      i += 1;
    } else if (char === "\\" && next === "h") {
      append("\u00A0");
      i += 1;
    } else if (char === "{" && body.indexOf("}", i) > i) {
      const close = body.indexOf("}", i);
      for (const tag of body.slice(i + 1, close).matchAll(/\\(?:k|K|kf|ko)(\d+)/g)) open(Number(tag[1]));
      i = close;
    } else append(char);
  }
  const lines = text.split("\n").map((line) => line.trim()).filter((line) => line !== "");
  const words = syllables.flatMap((syllable) => {
    const word = syllable.text.replace(/\n/g, " ").trim();
    return word === "" ? [] : [{ text: word, start: syllable.start, end: syllable.end }];
  });
  return words.length > 0 ? { start, end, lines, words } : { start, end, lines };
}
