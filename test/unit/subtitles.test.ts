/**
 * Subtitle files in every format: each writer read back gives the same cues, times and text (by
 * hand-picked cases and over random cues), and each holds the details its readers rely on.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import fc from "fast-check";
import { isSophiaError } from "../../core/app/errors.js";
import * as library from "../../core/app/index.js";
import { parseAss } from "../../core/app/subtitles/ass.js";
import { parseJson } from "../../core/app/subtitles/json.js";
import { parseTsv } from "../../core/app/subtitles/tsv.js";
import { parseTxt } from "../support/txt.js";
import { parseVtt } from "../../core/app/subtitles/vtt.js";
import { withoutCueArrow } from "../../core/app/subtitles/srt.js";
import { SubtitleDocumentSchema, formatOfFile, formatSrt, formatSubtitles, parseSrt, parseSubtitles, siblingPath, type Cue } from "../../core/app/subtitles/index.js";

/** Cues as refine makes them: trimmed lines, words in order with their times, one cue past 24 hours. */
const CUES: Cue[] = [
  {
    start: 1.5,
    end: 3.25,
    lines: ["Hello there,", "general Kenobi."],
    words: [
      { text: "Hello", start: 1.52, end: 1.9, probability: 0.98 },
      { text: "there,", start: 1.95, end: 2.3 },
      { text: "general", start: 2.61, end: 2.95 },
      { text: "Kenobi.", start: 2.95, end: 3.1 },
    ],
  },
  {
    start: 4.005,
    end: 6,
    lines: ["Fish & chips <cheap> --> {not a tag}", "a back\\slash, \\N and \\h"],
    words: ["Fish", "&", "chips", "<cheap>", "-->", "{not", "a", "tag}", "a", "back\\slash,", "\\N", "and", "\\h"].map((text, i) => ({ text, start: (4100 + i * 100) / 1000, end: (4150 + i * 100) / 1000 })),
  },
  { start: 90_000.001, end: 90_002, lines: ["A day later, déjà vu."], words: [] },
];

const withoutWords = (cues: readonly Cue[]) => cues.map(({ start, end, lines }) => ({ start, end, lines }));
const centiseconds = (seconds: number) => Math.round(Math.round(seconds * 1000) / 10) / 100;

describe("srt", { timeout: 60_000 }, () => {
  test("format and parse round-trip, past 24 hours and with several lines", () => {
    const cues: Cue[] = [
      { start: 1.5, end: 3.25, lines: ["Hello there,", "general Kenobi."] },
      { start: 90_000.001, end: 90_002, lines: ["A day later."] },
    ];
    const text = formatSrt(cues);
    assert.equal(text, "1\n00:00:01,500 --> 00:00:03,250\nHello there,\ngeneral Kenobi.\n\n2\n25:00:00,001 --> 25:00:02,000\nA day later.\n");
    assert.deepEqual(parseSrt(text), cues);
  });

  test("reads a byte-order mark, CRLF line ends and cues without numbers", () => {
    const cues = parseSrt("\uFEFF1\r\n00:00:01,000 --> 00:00:02,000\r\nOne\r\n\r\n00:00:03,000 --> 00:00:04,000\r\nTwo\r\n");
    assert.deepEqual(cues.map((cue) => cue.lines), [["One"], ["Two"]]);
  });

  test("text that is not SRT is srt_invalid, naming the file and the row", () => {
    assert.throws(
      () => parseSrt("1\nthis is not a timestamp\nHello\n", "talk.raw.srt"),
      (error) => isSophiaError(error, "srt_invalid") && /talk\.raw\.srt is not valid SRT: expected timestamp at row 2/.test(error.message),
    );
  });

  test("an arrow in the text is written -> so no reader takes it for a timing line", () => {
    const text = formatSrt([CUES[1] as Cue]);
    assert.doesNotMatch(text.split("\n").slice(2).join("\n"), /-->/);
    assert.deepEqual(parseSrt(text)[0]?.lines, ["Fish & chips <cheap> -> {not a tag}", "a back\\slash, \\N and \\h"]);
  });
});

describe("webvtt", { timeout: 60_000 }, () => {
  test("a WEBVTT header, no cue numbers, times with a dot, and &, <, > as character references", () => {
    const text = formatSubtitles("vtt", CUES);
    assert.equal(
      text,
      [
        "WEBVTT",
        "",
        "00:00:01.500 --> 00:00:03.250",
        "Hello there,",
        "general Kenobi.",
        "",
        "00:00:04.005 --> 00:00:06.000",
        "Fish &amp; chips &lt;cheap&gt; --&gt; {not a tag}",
        "a back\\slash, \\N and \\h",
        "",
        "25:00:00.001 --> 25:00:02.000",
        "A day later, déjà vu.",
        "",
      ].join("\n"),
    );
    assert.deepEqual(parseVtt(text), withoutWords(CUES));
  });

  test("reads other tools' WebVTT: cue settings, identifiers, NOTE blocks, tags and short times", () => {
    const text = "WEBVTT - made elsewhere\n\nNOTE a comment\n\nintro\n00:01.000 --> 00:02.500 align:start line:90%\n<v Roger>Hi &amp; <i>bye</i>\n";
    assert.deepEqual(parseVtt(text), [{ start: 1, end: 2.5, lines: ["Hi & bye"] }]);
  });

  test("a file without the WEBVTT line is refused as not WebVTT", () => {
    assert.throws(() => parseVtt("00:00:01.000 --> 00:00:02.000\nHi\n", "x.vtt"), (error) => isSophiaError(error, "subtitles_invalid") && /x\.vtt is not valid WebVTT/.test(error.message));
  });
});

describe("ass", { timeout: 60_000 }, () => {
  test("[Script Info], [V4+ Styles] and [Events], centisecond times, \\N between lines, braces escaped", () => {
    const text = formatSubtitles("ass", CUES);
    assert.match(text, /^\[Script Info\]\n(?:.*\n)*ScriptType: v4\.00\+\n/);
    assert.match(text, /\n\[V4\+ Styles\]\nFormat: Name, Fontname, .*\nStyle: Default,Arial,/);
    assert.match(text, /\n\[Events\]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n/);
    const events = text.split("\n").filter((line) => line.startsWith("Dialogue:"));
    assert.deepEqual(events.slice(0, 1), ["Dialogue: 0,0:00:01.50,0:00:03.25,Default,,0,0,0,,Hello there,\\Ngeneral Kenobi."]);
    assert.match(events[1] as string, /^Dialogue: 0,0:00:04\.01,0:00:06\.00,Default,,0,0,0,,Fish & chips <cheap> --> \\\{not a tag\\\}\\N/);
    assert.match(events[2] as string, /^Dialogue: 0,25:00:00\.00,25:00:02\.00,/);
    assert.deepEqual(
      parseAss(text),
      withoutWords(CUES).map((cue) => ({ ...cue, start: centiseconds(cue.start), end: centiseconds(cue.end) })),
    );
  });

  test("karaoke: a \\k tag per word and per silence, summing to the word times; read back as the same words", () => {
    const text = formatSubtitles("ass", CUES, { karaoke: true });
    const first = text.split("\n").find((line) => line.startsWith("Dialogue:")) as string;
    assert.equal(first, "Dialogue: 0,0:00:01.50,0:00:03.25,Karaoke,,0,0,0,,{\\k2}{\\k38}Hello {\\k5}{\\k35}there,\\N{\\k31}{\\k34}general {\\k15}Kenobi.");
    assert.match(text, /\nStyle: Karaoke,/);
    const cues = parseAss(text);
    assert.deepEqual(cues.map((cue) => cue.lines), CUES.map((cue) => cue.lines));
    CUES.forEach((cue, k) => {
      const words = (cue.words ?? []).map((word) => ({ text: word.text, start: centiseconds(word.start), end: centiseconds(word.end) }));
      assert.deepEqual(cues[k]?.words ?? [], words, `cue ${k + 1}`);
    });
  });

  test("karaoke in a language written without spaces adds none between the words", () => {
    const cue: Cue = { start: 1, end: 2, lines: ["你好世界，", "早上好"], words: [{ text: "你好", start: 1, end: 1.3 }, { text: "世界，", start: 1.3, end: 1.6 }, { text: "早上好", start: 1.7, end: 1.9 }] };
    const text = formatSubtitles("ass", [cue], { karaoke: true });
    assert.match(text, /,,\{\\k30\}你好\{\\k30\}世界，\\N\{\\k10\}\{\\k20\}早上好\n$/);
    assert.deepEqual(parseAss(text)[0]?.lines, cue.lines);
  });

  test("karaoke leaves a cue whose words do not match its lines as plain text", () => {
    const text = formatSubtitles("ass", [{ start: 0, end: 1, lines: ["Two words"], words: [{ text: "Other", start: 0, end: 1 }] }], { karaoke: true });
    assert.match(text, /,,Two words\n$/);
  });

  test("a file with no ASS section is refused", () => {
    assert.throws(() => parseAss("hello\n", "x.ass"), (error) => isSophiaError(error, "subtitles_invalid") && /x\.ass is not valid ASS/.test(error.message));
  });
});

describe("txt and tsv", { timeout: 60_000 }, () => {
  test("txt: one cue per line, its lines joined by a space", () => {
    const text = formatSubtitles("txt", CUES);
    assert.equal(text.split("\n")[0], "Hello there, general Kenobi.");
    assert.deepEqual(parseTxt(text), CUES.map((cue) => cue.lines.join(" ")));
  });

  test("txt and tsv join a cue's lines without a space in a language written without spaces", () => {
    const cue: Cue = { start: 1, end: 2, lines: ["你好世界，", "早上好"] };
    assert.equal(formatSubtitles("txt", [cue]), "你好世界，早上好\n");
    assert.match(formatSubtitles("tsv", [cue]), /\n1000\t2000\t你好世界，早上好\n$/);
  });

  test("tsv: Whisper's start/end/text header and whole milliseconds; a tab in the text becomes a space", () => {
    const text = formatSubtitles("tsv", [...CUES, { start: 7, end: 8, lines: ["tab\there"] }]);
    assert.deepEqual(text.split("\n").slice(0, 2), ["start\tend\ttext", "1500\t3250\tHello there, general Kenobi."]);
    assert.deepEqual(parseTsv(text), [...CUES, { start: 7, end: 8, lines: ["tab here"] }].map((cue) => ({ start: cue.start, end: cue.end, lines: [cue.lines.join(" ")] })));
  });
});

describe("json", { timeout: 60_000 }, () => {
  test("cues with their lines and words, each word with its times, valid against the published schema", () => {
    const text = formatSubtitles("json", CUES, { language: "en" });
    const document = SubtitleDocumentSchema.parse(JSON.parse(text));
    assert.equal(document.language, "en");
    assert.deepEqual(document.cues[0]?.words[0], { text: "Hello", start: 1.52, end: 1.9, probability: 0.98 });
    assert.deepEqual(parseJson(text), CUES.map((cue) => (cue.words?.length ? cue : { start: cue.start, end: cue.end, lines: cue.lines })));
  });

  test("a JSON file that is not Sophia's subtitle document is refused, naming the field", () => {
    assert.throws(() => parseJson('{"format":"sophia.subtitles","version":1,"language":null,"cues":[{"start":"1"}]}', "x.json"), (error) => isSophiaError(error, "subtitles_invalid") && /cues\.0\.start/.test(error.message));
  });
});

describe("random cues round-trip through every format that holds times", { timeout: 60_000 }, () => {
  const word = fc.stringMatching(/^[A-Za-z0-9éß&<>{}\\,.!?'"-]{1,8}$/);
  const line = fc.array(word, { minLength: 1, maxLength: 6 }).map((words) => words.join(" "));
  const cues = fc
    .array(fc.record({ gapMs: fc.integer({ min: 0, max: 200_000 }), durationMs: fc.integer({ min: 0, max: 10_000 }), lines: fc.array(line, { minLength: 1, maxLength: 3 }) }), { maxLength: 8 })
    .map((specs) => {
      let at = 0;
      return specs.map(({ gapMs, durationMs, lines }) => {
        const start = at + gapMs;
        at = start + durationMs;
        return { start: start / 1000, end: at / 1000, lines };
      });
    });

  test("srt (text without arrows), vtt, json and tsv keep times to the millisecond; ass to the centisecond", () => {
    fc.assert(
      fc.property(cues, (generated) => {
        const noArrows = generated.map((cue) => ({ ...cue, lines: cue.lines.map(withoutCueArrow) }));
        assert.deepEqual(parseSrt(formatSubtitles("srt", noArrows)), noArrows);
        assert.deepEqual(parseVtt(formatSubtitles("vtt", generated)), generated);
        assert.deepEqual(parseJson(formatSubtitles("json", generated)), generated);
        assert.deepEqual(parseTsv(formatSubtitles("tsv", generated)), generated.map((cue) => ({ ...cue, lines: [cue.lines.join(" ")] })));
        assert.deepEqual(parseAss(formatSubtitles("ass", generated)), generated.map((cue) => ({ ...cue, start: centiseconds(cue.start), end: centiseconds(cue.end) })));
        assert.deepEqual(parseTxt(formatSubtitles("txt", generated)), generated.map((cue) => cue.lines.join(" ")));
      }),
      { numRuns: 200 },
    );
  });
});

describe("srt text never holds a cue arrow", { timeout: 60_000 }, () => {
  test("a run of dashes before > becomes one arrow, so \"--->\" cannot turn into \"-->\" (found by the round-trip property)", () => {
    const written = formatSrt([{ start: 0, end: 1, lines: ["--->0 .", "a ---> b --> c"] }]);
    assert.equal(written.split("\n").filter((line) => line.includes("-->")).length, 1, written);
    assert.deepEqual(parseSrt(written), [{ start: 0, end: 1, lines: ["->0 .", "a -> b -> c"] }]);
  });
});

describe("formats by file name", { timeout: 60_000 }, () => {
  test("the extension names the format, in any case; another extension is refused, listing the ones there are", () => {
    assert.equal(formatOfFile("out/talk.VTT", "--output"), "vtt");
    assert.equal(formatOfFile("talk.ass", "--output"), "ass");
    assert.throws(() => formatOfFile("talk.sub", "--output"), (error) => isSophiaError(error, "usage") && /--output talk\.sub: "\.sub" is not a subtitle format Sophia writes; use one of \.srt, \.vtt, \.ass, \.txt, \.json, \.tsv/.test(error.message));
    assert.throws(() => formatOfFile("talk", "--output"), /no extension to tell the format by/);
  });

  test("a sibling has the same name with the format's extension", () => {
    assert.equal(siblingPath("/w/outputs/talk.t1.refined.srt", "vtt"), "/w/outputs/talk.t1.refined.vtt");
    assert.equal(siblingPath("/w/outputs/talk", "json"), "/w/outputs/talk.json");
  });

  test("inputs are read by extension, anything else (plain text included: it has no times) as SRT", () => {
    assert.deepEqual(parseSubtitles(formatSubtitles("tsv", CUES), "x.tsv"), parseTsv(formatSubtitles("tsv", CUES)));
    assert.deepEqual(parseSubtitles(formatSrt(withoutWords(CUES)), "x.subs"), parseSrt(formatSrt(withoutWords(CUES))));
    assert.throws(() => parseSubtitles("hello\nthere\n", "notes.txt"), (error) => isSophiaError(error, "srt_invalid") && /notes\.txt is not valid SRT/.test(error.message));
  });
});

test("the library exports the formats, so an app can read Sophia's JSON and write any format after an edit", { timeout: 60_000 }, () => {
  const edited = library.parseSubtitles(library.formatSubtitles("json", CUES), "talk.refined.json").map((cue) => ({ ...cue, lines: cue.lines.map((line) => line.toUpperCase()) }));
  assert.deepEqual(library.SUBTITLE_FORMATS, ["srt", "vtt", "ass", "txt", "json", "tsv"]);
  assert.match(library.formatSubtitles("vtt", edited), /\nHELLO THERE,\nGENERAL KENOBI\.\n/);
});
