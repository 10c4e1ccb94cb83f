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
import { TranscriptSchema, transcriptWords, type Transcript } from "../../core/app/transcript.js";
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
  "We bought milk and cheese at the corner shop.",
  "The old bridge was closed for a week in the spring.",
  "Please send the final report to the office tomorrow.",
  "Two young students walked home after the football game.",
];

const words = (text: string) => text.toLowerCase().replace(/[^a-z' ]+/g, " ").split(/\s+/).filter(Boolean);

/** Where the worker's audio_pieces.py cuts the file into pieces of at most PIECE_SEC (piece starts after the first). */
function cutsOf(media: string): number[] {
  const program = `
import json, sys
sys.path.insert(0, sys.argv[1])
import audio_pieces
with audio_pieces.MediaAudio(sys.argv[2]) as media:
    print(json.dumps([piece.start for piece in media.pieces(float(sys.argv[3]))][1:]))
`;
  const engineDir = path.join(PROJECT, "core", "app", "engines", "faster_whisper");
  return JSON.parse(execFileSync(VENV_PYTHON, ["-c", program, engineDir, media, String(PIECE_SEC)], { encoding: "utf8" })) as number[];
}

describe("long media in pieces", () => {
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

  test("the words on either side of each cut are heard once, in order", () => {
    const heard = words(transcriptWords(transcript).map((word) => word.text).join(" ")).join(" ");
    for (const cut of cuts) {
      const next = onsets.findIndex((onset) => onset >= cut);
      const across = [...words(SENTENCES[next - 1] as string).slice(-2), ...words(SENTENCES[next] as string).slice(0, 2)].join(" ");
      const found = heard.split(across).length - 1;
      assert.equal(found, 1, `"${across}" (around the cut at ${cut.toFixed(2)} s) heard ${found} times in: ${heard}`);
    }
    assert.ok(wer(SENTENCES.join(" "), heard) <= MAX_WER, `word error rate over ${MAX_WER}: ${heard}`);
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
