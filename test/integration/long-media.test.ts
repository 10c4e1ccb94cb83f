/**
 * Long media is transcribed in pieces cut at pauses (spec §4.1, "long media"), through the real CLI
 * with tiny.en. Pieces are 10 minutes long; here $SOPHIA_ASR_PIECE_SEC (read by the worker for
 * tests and benchmarks only) makes them 12 s, so 40 s of espeak-ng sentences is cut about four
 * times, and the words on either side of each cut must each be heard once.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync, rmSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import { TranscriptSchema, type Transcript } from "../../core/app/transcript.js";
import { transcriptWords } from "../support/timed_words.js";
import type { SophiaEvent } from "../../core/app/interfaces.js";
import { cli, dropTask, MAX_WER, makeWorkspace, PROJECT, readEvents, specExampleTask, spokenSentences, VENV_PYTHON, wer, type TestWorkspace } from "../support/harness.js";

const PIECE_SEC = 12;
const GAP_SEC = 0.6;
/** espeak-ng's own silence at the end and start of a sentence, besides the gap. */
const ESPEAK_EDGES_SEC = 0.6;
/** Short sentences of common words, which tiny.en hears right from espeak-ng, said with GAP_SEC of silence between them. */
const SENTENCES = [
  "The red fox jumped over a sleeping dog near the river.",
  "Heavy rain flooded the village market last winter.",
  "A curious child asked the teacher about distant planets.",
  "Our friend repaired the broken fence with silver wire.",
  "The library closes early on public holidays.",
  "My sister walks to work every morning.",
  "Heavy snow covered the mountain roads last night.",
  "The old bridge was closed for a week in the spring.",
  "Please send the final report to the office tomorrow.",
  "Two young students walked home after the football game.",
];

const words = (text: string) => text.toLowerCase().replace(/[^a-z' ]+/g, " ").split(/\s+/).filter(Boolean);

type Edit = { op: "same" | "substituted" | "deleted"; ref: number } | { op: "inserted"; word: string; after: number };

/** A least-edit alignment of what was heard to the reference words (the WER's), as one edit per step. */
function align(reference: string[], heard: string[]): Edit[] {
  const cost = Array.from({ length: reference.length + 1 }, (_, i) => Array.from({ length: heard.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= reference.length; i++)
    for (let j = 1; j <= heard.length; j++) {
      const row = cost[i] as number[];
      const up = cost[i - 1] as number[];
      row[j] = Math.min((up[j] as number) + 1, (row[j - 1] as number) + 1, (up[j - 1] as number) + (reference[i - 1] === heard[j - 1] ? 0 : 1));
    }
  const edits: Edit[] = [];
  const at = (i: number, j: number) => (cost[i] as number[])[j] as number;
  for (let i = reference.length, j = heard.length; i > 0 || j > 0; ) {
    if (i > 0 && j > 0 && at(i, j) === at(i - 1, j - 1) + (reference[i - 1] === heard[j - 1] ? 0 : 1)) {
      edits.unshift({ op: reference[i - 1] === heard[j - 1] ? "same" : "substituted", ref: --i });
      j--;
    } else if (i > 0 && at(i, j) === at(i - 1, j) + 1) edits.unshift({ op: "deleted", ref: --i });
    else edits.unshift({ op: "inserted", word: heard[--j] as string, after: i - 1 });
  }
  return edits;
}

/** Where the worker's audio_pieces.py cuts the file into pieces of at most PIECE_SEC: where each piece but the first starts to own the media. */
function cutsOf(media: string): number[] {
  const program = `
import json, sys
sys.path.insert(0, sys.argv[1])
import audio_pieces
with audio_pieces.MediaAudio(sys.argv[2]) as media:
    print(json.dumps([piece.owned[0] for piece in media.pieces(float(sys.argv[3]))][1:]))
`;
  const engineDir = path.join(PROJECT, "core", "app", "engines", "faster_whisper");
  return JSON.parse(execFileSync(VENV_PYTHON, ["-c", program, engineDir, media, String(PIECE_SEC)], { encoding: "utf8" })) as number[];
}

describe("long media in pieces", { timeout: 600_000 }, () => {
  let ws: TestWorkspace;
  let onsets: number[];
  let cuts: number[];
  let transcript: Transcript;
  let events: SophiaEvent[];

  before(async () => {
    ws = makeWorkspace();
    const spoken = spokenSentences(ws, "sentences.wav", SENTENCES, GAP_SEC);
    onsets = spoken.onsets;
    cuts = cutsOf(spoken.file);
    dropTask(
      ws,
      specExampleTask({
        task_id: "pieces",
        pipeline: ["asr"],
        config_snapshot: { engine: { type: "faster_whisper", model: "tiny.en", language: "en" }, debug: { keep_tmp: true } },
        input: { media: "workspace/inbox/sentences.wav", script: null },
        output: { raw_srt: "workspace/outputs/pieces.raw.srt", refined_srt: "workspace/outputs/pieces.refined.srt" },
      }),
    );
    const result = await cli(ws, ["run", "--task", "pieces"], { SOPHIA_ASR_PIECE_SEC: String(PIECE_SEC) });
    assert.equal(result.code, 0, result.stderr);
    transcript = TranscriptSchema.parse(JSON.parse(readFileSync(path.join(ws.dir, "outputs", "_tmp", "pieces", "transcript.json"), "utf8")));
    events = readEvents(ws, "pieces");
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  test("the media is cut between sentences, several times", () => {
    assert.ok(cuts.length >= 3, `cuts at ${cuts.join(", ")} s`);
    for (const cut of cuts) {
      const next = onsets.findIndex((onset) => onset >= cut);
      assert.ok(next > 0 && (onsets[next] as number) - cut < GAP_SEC + ESPEAK_EDGES_SEC, `the cut at ${cut} s falls in the silence before a sentence (onsets ${onsets.join(", ")})`);
    }
  });

  test("no word on either side of a cut is lost or heard twice", () => {
    // tiny.en mishears a word of espeak-ng now and then ("heavy" as "have it"): a substitution is
    // the model's, not the cut's. A reference word with nothing heard for it is lost; a heard word
    // the reference does not have, equal to a word next to the cut, is heard twice.
    const reference = SENTENCES.flatMap(words);
    const heard = words(transcriptWords(transcript).map((word) => word.text).join(" "));
    const edits = align(reference, heard);
    const firstWordOf = SENTENCES.map((_, k) => SENTENCES.slice(0, k).flatMap(words).length);
    for (const cut of cuts) {
      const next = onsets.findIndex((onset) => onset >= cut);
      const around = [firstWordOf[next]! - 2, firstWordOf[next]! - 1, firstWordOf[next]!, firstWordOf[next]! + 1];
      const lost = edits.filter((edit) => edit.op === "deleted" && around.includes(edit.ref));
      const twice = edits.filter((edit) => edit.op === "inserted" && around.some((ref) => reference[ref] === edit.word && Math.abs(ref - edit.after) <= 2));
      const context = `around the cut at ${cut.toFixed(2)} s ("${around.map((ref) => reference[ref]).join(" ")}"), heard: ${heard.join(" ")}`;
      assert.deepEqual(lost, [], `lost ${context}`);
      assert.deepEqual(twice, [], `heard twice ${context}`);
    }
    assert.ok(wer(SENTENCES.join(" "), heard.join(" ")) <= MAX_WER, `word error rate over ${MAX_WER}: ${heard.join(" ")}`);
  });

  test("times are on the media's timeline: in order, inside the media, which is decoded to its end", () => {
    const all = transcriptWords(transcript);
    const last = onsets.at(-1) as number;
    assert.ok(transcript.duration_sec > last + 2, `duration ${transcript.duration_sec} s covers the last sentence (from ${last} s)`);
    assert.ok(all.every((word, i) => word.start <= word.end && word.end <= transcript.duration_sec && (i === 0 || word.start >= (all[i - 1]?.end ?? 0))), "words in order inside the media");
    assert.ok((all.at(-1)?.start ?? 0) > last, "the last sentence has words");
    assert.deepEqual(transcript.coverage?.uncovered, [], "every stretch of speech has words");
  });

  test("progress moves forward across the pieces to the end", () => {
    const progress = events.flatMap((event) => (event.type === "stage.progress" && event.payload.stage === "asr" ? [event.payload.progress] : []));
    assert.ok(progress.every((value, i) => i === 0 || value >= (progress[i - 1] as number)), `progress never goes back: ${progress.join(" ")}`);
    const lastCut = cuts.at(-1) as number;
    assert.ok(progress.some((value) => value > lastCut / transcript.duration_sec), `progress reaches the last piece: ${progress.join(" ")}`);
  });
});
