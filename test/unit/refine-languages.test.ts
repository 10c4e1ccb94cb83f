/**
 * Refine in languages other than English: each language's limits from its style guide, line
 * breaks from its function words, and languages written without spaces (Chinese, Japanese) cut
 * into words, measured in characters and joined without spaces.
 */
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { classifyBreaks } from "../../core/app/refine/break_points.js";
import { checkCues, languageOfScript, refineSegments, resolveRules, segmentsFromCues, type RefineRules } from "../../core/app/refine/index.js";
import type { Cue } from "../../core/app/subtitles/index.js";
import { writingOf } from "../../core/app/refine/languages.js";
import { breakLines, measureWords } from "../../core/app/refine/line_breaking.js";
import { separator, textWidth } from "../../core/app/refine/text.js";
import { createRefineStage } from "../../core/app/stages/refine.js";
import { writeTranscript } from "../../core/app/stages/transcript_handoff.js";
import { TranscriptSchema } from "../../core/app/transcript.js";
import type { Task } from "../../core/app/task/model/schema.js";
import type { TimedWord } from "../../core/app/transcript.js";
import { PROJECT } from "../support/harness.js";
import { spoken } from "../support/timed_words.js";

const NO_CLEANING = { remove_filler: false, collapse_loops: false };

function lines(text: string, language: string): string[] | null {
  const rules = resolveRules({}, "test", language);
  const words = text.split(" ");
  return breakLines(measureWords(words, rules.writing), classifyBreaks(words, language), rules)?.lines ?? null;
}

/** Words spoken one after another at `cps` characters per second, as Whisper gives them for an unspaced language. */
function spokenTokens(tokens: readonly string[], cps: number, start = 0.5): TimedWord[] {
  let at = start;
  return tokens.map((text) => {
    const word = { text, start: at, end: at + [...text].length / cps };
    at = word.end + 0.01;
    return word;
  });
}

function linesOf(cues: readonly Cue[]): string[] {
  return cues.flatMap((cue) => cue.lines);
}

function widest(cues: readonly Cue[], rules: RefineRules): number {
  return Math.max(...linesOf(cues).map((line) => textWidth(line, rules.writing)));
}

describe("limits per language", { timeout: 60_000 }, () => {
  test("each language gets its style guide's line length and reading speed; others get English's", () => {
    const limits = (language: string | null, settings: Record<string, unknown> = {}) => {
      const rules = resolveRules(settings, "test", language);
      return [rules.max_chars_per_line, rules.max_cps];
    };
    assert.deepEqual(limits(null), [42, 20]);
    assert.deepEqual(limits("de"), [42, 17]);
    assert.deepEqual(limits("es"), [42, 17]);
    assert.deepEqual(limits("fr", { children: true }), [42, 13]);
    assert.deepEqual(limits("zh"), [16, 9]);
    assert.deepEqual(limits("zh", { children: true }), [16, 7]);
    assert.deepEqual(limits("yue"), [16, 9]);
    assert.deepEqual(limits("ja"), [13, 4]);
    assert.deepEqual(limits("ko"), [16, 12]);
    assert.deepEqual(limits("th"), [35, 17]);
    assert.deepEqual(limits("pt-BR"), [42, 17]);
    assert.deepEqual(limits("sv"), [42, 20]);
  });

  test("an option set explicitly wins over the language's default, and the task's language over the transcript's", () => {
    const rules = resolveRules({ max_chars_per_line: 20, max_cps: 12 }, "test", "zh");
    assert.deepEqual([rules.max_chars_per_line, rules.max_cps, rules.language], [20, 12, "zh"]);
    const chosen = resolveRules({ language: "de" }, "test", "zh");
    assert.deepEqual([chosen.language, chosen.max_chars_per_line, chosen.writing.unspaced], ["de", 42, false]);
  });

  test("a language that is not a language code is refused, naming the option", () => {
    assert.throws(
      () => resolveRules({ language: "German!" }),
      (error) => isSophiaError(error, "task_invalid") && /config_snapshot\.refine\.language: expected a language code/.test(error.message),
    );
  });

  test("a file's script tells Chinese, Japanese, Korean and Thai apart; other text has no guess", () => {
    assert.equal(languageOfScript("大家好，欢迎来到我们的频道。"), "zh");
    assert.equal(languageOfScript("今日はいい天気ですね。"), "ja");
    assert.equal(languageOfScript("안녕하세요 여러분"), "ko");
    assert.equal(languageOfScript("สวัสดีครับ"), "th");
    assert.equal(languageOfScript("Guten Morgen, meine Damen und Herren."), null);
    assert.equal(languageOfScript("Der Laden heißt 东京 Sushi und liegt am Markt."), null);
  });
});

describe("measuring and joining", { timeout: 60_000 }, () => {
  test("Chinese, Japanese and Korean count a half-width character as half; other languages count every character a reader sees", () => {
    assert.equal(textWidth("我用iPhone拍照", writingOf("zh")), 7);
    assert.equal(textWidth("東京タワー", writingOf("ja")), 5);
    assert.equal(textWidth("안녕 하세요", writingOf("ko")), 5.5);
    assert.equal(textWidth("Straße, 12", writingOf("de")), 10);
    // A character is what a reader sees as one: a Thai consonant with its marks, a letter with a combining accent.
    assert.equal(textWidth("ที่นี่", writingOf("th")), 2);
    assert.equal(textWidth("Cafe\u0301", writingOf("fr")), 4);
  });

  test("words of an unspaced language join with nothing between them, except two words of a spaced script", () => {
    const zh = writingOf("zh");
    assert.equal(separator("我们", "今天", zh), "");
    assert.equal(separator("用", "iPhone", zh), "");
    assert.equal(separator("iPhone", "13", zh), " ");
    assert.equal(separator("Hund", "bellt", writingOf("de")), " ");
  });

  test("an SRT cue in an unspaced language is cut into dictionary words, punctuation kept with its word", () => {
    const [segment] = segmentsFromCues([{ start: 0, end: 4, lines: ["大家好，欢迎来到", "我们的频道。"] }], "zh");
    const words = segment?.words.map((word) => word.text) ?? [];
    assert.ok(words.length >= 5, words.join("|"));
    assert.equal(words.join(""), "大家好，欢迎来到我们的频道。");
    assert.ok(words.every((word) => !/^[，。]/.test(word)), words.join("|"));
    assert.deepEqual(segmentsFromCues([{ start: 0, end: 1, lines: ["Guten Tag"] }], "de")[0]?.words.map((word) => word.text), ["Guten", "Tag"]);
  });

  test("Thai keeps the spaces between its phrases, and breaks there, but puts none between words", () => {
    // Two phrases as Whisper writes them: words inside a phrase with no space, a space before the second.
    const first = ["วันนี้", "อากาศ", "ดี", "มาก"];
    const second = ["เรา", "ไป", "เที่ยว", "ทะเล", "กัน"];
    const words: TimedWord[] = [...first, ...second].map((text, k) => ({ text, start: k * 0.4, end: k * 0.4 + 0.35, ...(k === first.length ? { space_before: true as const } : {}) }));
    const result = refineSegments([{ words }], resolveRules({}, "refine", "th"));
    assert.equal(result.cues.map((cue) => cue.lines.join(" ")).join(" "), `${first.join("")} ${second.join("")}`);
    assert.deepEqual(classifyBreaks([...first, ...second], "th", words.map((word) => word.space_before === true))[first.length - 1], "clause");

    const [segment] = segmentsFromCues([{ start: 0, end: 4, lines: [`${first.join("")} ${second.join("")}`] }], "th");
    const fromSrt = segment?.words ?? [];
    assert.equal(fromSrt.filter((word) => word.space_before).length, 2, "the cue's start and the space between the phrases");
    assert.equal(fromSrt.map((word, k) => (k > 0 && word.space_before ? " " : "") + word.text).join(""), `${first.join("")} ${second.join("")}`);
    assert.ok(segmentsFromCues([{ start: 0, end: 1, lines: ["我们 今天"] }], "zh")[0]?.words.every((word) => !word.space_before), "Chinese keeps no spaces");
  });
});

describe("German", { timeout: 60_000 }, () => {
  test("a line never ends with an article or a preposition; it breaks before a conjunction", () => {
    assert.deepEqual(lines("Wir haben im Garten gearbeitet und danach zusammen gegessen", "de"), ["Wir haben im Garten gearbeitet", "und danach zusammen gegessen"]);
    const classes = classifyBreaks("mit dem Hund weil er".split(" "), "de");
    assert.deepEqual(classes, ["avoid", "never", "before_function", "avoid"]);
    for (const text of [
      "Gestern Abend hat mir der Nachbar die alten Bücher aus dem Keller gebracht",
      "Ich habe meiner Schwester einen Brief über unsere Reise geschrieben",
      "Sie blieb lieber zu Hause weil sie seit Tagen krank war",
    ]) {
      const broken = lines(text, "de") as string[];
      assert.equal(broken.length, 2, text);
      assert.doesNotMatch(broken[0] as string, / (der|die|das|den|dem|des|ein|eine|einen|einem|meiner|unsere|mit|aus|über|nach|zu|seit)$/, broken.join(" / "));
    }
    assert.match((lines("Sie blieb lieber zu Hause weil sie seit Tagen krank war", "de") as string[])[1] as string, /^weil /);
  });

  test("German nouns are capitalised: capitals are no sign of a name, an inflected word before one is its adjective", () => {
    assert.deepEqual(classifyBreaks(["Der", "Hund", "Bello"], "de"), ["never", "plain"]);
    assert.equal(classifyBreaks(["vielfältiger", "Lebensgefahr"], "de")[0], "avoid");
    assert.deepEqual(classifyBreaks(["Leibs-", "und", "Lebensgefahr"], "de"), ["never", "avoid"]);
    const broken = lines("Gestern habe ich mit meinem alten Freund einen langen Spaziergang im Park gemacht", "de") as string[];
    assert.doesNotMatch(broken[0] as string, / (alten|langen|meinem|einen)$/, broken.join(" / "));
    assert.deepEqual(lines("Als der Regen endlich aufgehört hatte, gingen wir alle zusammen spazieren", "de"), ["Als der Regen endlich aufgehört hatte,", "gingen wir alle zusammen spazieren"]);
  });

  test("refined German subtitles keep to 42 characters and 17 characters a second", () => {
    const rules = resolveRules(NO_CLEANING, "test", "de");
    const text = "Es war einmal ein kleines Mädchen, das lebte mit seiner Mutter am Rande eines großen Waldes. Jeden Morgen ging es hinaus, um Holz zu sammeln, und jeden Abend kam es müde nach Hause.";
    const result = refineSegments([{ words: spoken(text, { cps: 14 }) }], rules);
    assert.equal(result.cues.map((cue) => cue.lines.join(" ")).join(" "), text);
    assert.deepEqual(Object.entries(result.violations).filter(([, count]) => count > 0), []);
    assert.ok(widest(result.cues, rules) <= 42);
    assert.deepEqual(checkCues([{ start: 0, end: 2, lines: ["Das sind vierzig Zeichen in zwei Sekunden"] }], rules).map((v) => v.rule), ["max_cps"]);
  });
});

describe("Spanish", { timeout: 60_000 }, () => {
  test("a line never ends with an article, determiner, preposition or clitic; it breaks before a conjunction", () => {
    assert.deepEqual(classifyBreaks("con los amigos y se fue".split(" "), "es"), ["avoid", "never", "before_function", "avoid", "avoid"]);
    for (const text of [
      "Ayer por la tarde fuimos al mercado con mis padres y compramos algunas frutas",
      "Hace algunas semanas que esperamos noticias de nuestros amigos",
      "El capitán llegó cansado a la casa porque caminó durante toda la noche",
    ]) {
      const broken = lines(text, "es") as string[];
      assert.equal(broken.length, 2, text);
      assert.doesNotMatch(broken[0] as string, / (el|la|los|las|un|una|al|del|mis|nuestros|algunas|a|de|con|por|durante|y|que|se)$/, broken.join(" / "));
    }
    assert.match((lines("El capitán llegó cansado a la casa porque caminó durante toda la noche", "es") as string[])[1] as string, /^porque /);
  });

  test("two capitalised words in a row are kept together as a name", () => {
    assert.equal(classifyBreaks(["Manuel", "Tamayo"], "es")[0], "avoid");
    assert.notEqual(classifyBreaks(["Manuel", "Tamayo"], "de")[0], "avoid");
  });
});

describe("Italian", { timeout: 60_000 }, () => {
  test("a lone i is the article, not the English pronoun", () => {
    const rules = resolveRules(NO_CLEANING, "test", "it");
    const result = refineSegments([{ words: spoken("mangiamo i biscotti. i bambini dormono.") }], rules);
    assert.equal(result.cues.map((cue) => cue.lines.join(" ")).join(" "), "Mangiamo i biscotti. I bambini dormono.");
  });
});

describe("filler heard in silence", { timeout: 60_000 }, () => {
  const doubted = (words: TimedWord[]) => ({ words, no_speech_prob: 0.8 });
  const kept = (language: string, segments: Parameters<typeof refineSegments>[0]) =>
    refineSegments(segments, resolveRules({ collapse_loops: false }, "test", language)).cues.flatMap((cue) => cue.lines).join(" ");

  test("each language's stock phrases go when Whisper doubted them, and stay when said clearly", () => {
    const speech = { words: spoken("Wir sehen uns morgen wieder.") };
    assert.equal(kept("de", [speech, doubted(spoken("Untertitel im Auftrag des ZDF, 2020.", { start: 10 }))]), "Wir sehen uns morgen wieder.");
    assert.equal(kept("de", [speech, { words: spoken("Vielen Dank.", { start: 10 }) }]), "Wir sehen uns morgen wieder. Vielen Dank.");
    assert.equal(kept("es", [doubted(spoken("¡Gracias por ver el video!")), { words: spoken("Hasta mañana.", { start: 10 }) }]), "Hasta mañana.");
    assert.equal(kept("zh", [{ words: spokenTokens(["我们", "明天", "见。"], 3) }, doubted(spokenTokens(["谢谢", "观看", "。"], 3, 10))]), "我们明天见。");
  });

  test("another language's stock phrase is a word like any other: a doubted German 'So.' stays", () => {
    assert.equal(kept("de", [doubted(spoken("So."))]), "So.");
    assert.equal(kept("en", [doubted(spoken("So."))]), "");
  });
});

describe("Chinese", { timeout: 60_000 }, () => {
  test("a break never falls inside a word Whisper split in two, and prefers the comma", () => {
    assert.deepEqual(classifyBreaks(["我们", "讨论", "人", "工智能", "，", "然后"], "zh").slice(2, 3), ["never"]);
    assert.equal(classifyBreaks(["应用，", "以及"], "zh")[0], "clause");
    assert.equal(classifyBreaks(["我", "的", "朋友"], "zh")[0], "never");
  });

  test("refined Chinese has no spaces added, lines of at most 16 characters, and keeps Whisper's words whole", () => {
    const rules = resolveRules(NO_CLEANING, "test", "zh");
    const tokens = ["大家", "好", "，", "欢迎", "来到", "我们的", "频道", "。", "今天", "我们", "要", "讨论", "人", "工智能", "在", "日常", "生活", "中", "的", "应用", "，", "以及", "它", "将", "如何", "改变", "我们的", "工作", "方式", "。"];
    const words = spokenTokens(tokens, 4).map((word, i, all) => (/^[，。]$/.test(word.text) ? null : { ...word, text: word.text + (/^[，。]$/.test(all[i + 1]?.text ?? "") ? (all[i + 1] as TimedWord).text : "") })).filter((word): word is TimedWord => word !== null);
    const result = refineSegments([{ words }], rules);
    const shown = linesOf(result.cues);
    assert.equal(shown.join(""), tokens.join(""));
    assert.ok(shown.every((line) => !line.includes(" ")), shown.join(" / "));
    assert.ok(widest(result.cues, rules) <= 16, shown.join(" / "));
    assert.ok(!shown.some((line) => line.endsWith("人") || line.startsWith("工智能")), shown.join(" / "));
    assert.ok(shown.some((line) => line.endsWith("，") || line.endsWith("。")), shown.join(" / "));
    assert.deepEqual(Object.entries(result.violations).filter(([, count]) => count > 0), []);
  });

  test("check counts Chinese lines against 16 characters and 9 a second", () => {
    const rules = resolveRules({}, "test", "zh");
    const cues: Cue[] = [
      { start: 0, end: 3, lines: ["今天我们要讨论人工智能在日常生活中的应用"] },
      { start: 4, end: 5, lines: ["这是理解人工智能的关键"] },
      { start: 6, end: 9, lines: ["我用iPhone拍照"] },
    ];
    const violations = checkCues(cues, rules);
    assert.deepEqual(violations.map((v) => `${v.cue} ${v.rule}`), ["1 max_chars_per_line", "2 max_cps"]);
    assert.match(violations[0]?.message ?? "", /line 1 has 20 characters \(max 16\)/);
    assert.deepEqual(checkCues(cues, resolveRules()), []);
  });
});

describe("Japanese", { timeout: 60_000 }, () => {
  test("a line never starts with a particle, a small kana or a closing mark", () => {
    assert.deepEqual(classifyBreaks(["今日", "は", "いい", "天気", "です", "ね。"], "ja"), ["never", "plain", "plain", "never", "never"]);
    assert.equal(classifyBreaks(["行き", "ょう"], "ja")[0], "never");
    assert.equal(classifyBreaks(["東京", "タワー"], "ja")[0], "never"); // one word to the dictionary
  });

  test("a Japanese SRT refines to lines of at most 13 characters without spaces, broken at its punctuation", () => {
    const rules = resolveRules(NO_CLEANING, "test", "ja");
    const text = "今日はいい天気ですね。東京タワーに行きましょう。そのあとで、浅草のお寺も見に行きたいです。";
    const result = refineSegments(segmentsFromCues([{ start: 1, end: 14, lines: [text] }], "ja"), rules);
    const shown = linesOf(result.cues);
    assert.equal(shown.join(""), text);
    assert.ok(widest(result.cues, rules) <= 13, shown.join(" / "));
    assert.ok(shown.every((line) => !/^[はがをにでもの。、]/.test(line) && !line.includes(" ")), shown.join(" / "));
    assert.ok(shown.includes("今日はいい天気ですね。"), shown.join(" / "));
  });
});

describe("the refine stage", { timeout: 60_000 }, () => {
  const FIXTURES = path.join(PROJECT, "test", "fixtures", "refine");

  /** The refine stage on a task whose asr left a corpus reading's transcript (made with Whisper base, see the fixtures' README). */
  async function refineTranscript(reading: "de" | "es", config: { refine?: Record<string, unknown>; engine?: Record<string, unknown> } = {}) {
    const dir = mkdtempSync(path.join(tmpdir(), "sophia-refine-language-"));
    try {
      await writeTranscript(dir, TranscriptSchema.parse(JSON.parse(readFileSync(path.join(FIXTURES, `reading_${reading}.transcript.json`), "utf8"))));
      const task = { pipeline: ["asr", "refine"], input: { media: `reading_${reading}.mp3` }, config_snapshot: { engine: { type: "faster_whisper", model: "base", ...config.engine }, refine: config.refine } } as unknown as Task;
      const raw = { field: "output.raw_srt", path: path.join(dir, "raw.srt"), asWritten: "raw.srt" };
      const refined = [{ format: "srt" as const, field: "output.refined_srt", path: path.join(dir, "refined.srt"), asWritten: "refined.srt" }];
      const paths = { media: "", script: null, rawSrt: raw.path, raw, refinedSrt: path.join(dir, "refined.srt"), refined, tmpDir: dir, display: (absolute: string) => absolute, assertWritable: () => undefined };
      // No script, so no forced alignment: the stage needs no engine.
      const result = await createRefineStage(undefined as never).run({ task, paths, signal: new AbortController().signal, progress: () => undefined });
      return { summary: result.summary as { rules: { language: string; max_chars_per_line: number; max_cps: number }; violations: Record<string, number> }, srt: readFileSync(paths.refinedSrt, "utf8") };
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  test("takes the language asr transcribed in, and refines the German and Spanish readings within their limits", async () => {
    for (const reading of ["de", "es"] as const) {
      const { summary, srt } = await refineTranscript(reading);
      assert.deepEqual(summary.rules, { language: reading, max_chars_per_line: 42, max_cps: 17 });
      assert.deepEqual(Object.entries(summary.violations).filter(([, count]) => count > 0), [], reading);
      // Sensible breaks: no line (but a cue's last) ends with an article, determiner or preposition.
      const cueLines = srt.split(/\n\n/).map((cue) => cue.split("\n").slice(2));
      const badEnds = cueLines.flatMap((lines) => lines.slice(0, -1)).filter((line) => / (der|die|das|den|dem|des|ein|eine|einen|einem|mit|von|zu|el|la|los|las|un|una|unos|de|del|al|a|en|con|por|para|mi|su|algunas)$/i.test(line));
      assert.deepEqual(badEnds, [], reading);
    }
  });

  test("the task's own refine.language wins over asr's", async () => {
    assert.deepEqual((await refineTranscript("de", { refine: { language: "en" } })).summary.rules, { language: "en", max_chars_per_line: 42, max_cps: 20 });
  });
});
