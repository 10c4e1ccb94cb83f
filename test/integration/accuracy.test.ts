/**
 * Accuracy first (spec §4.1, "at least the words faster-whisper alone gets right"): every short
 * corpus clip (under 10 s: ../shared/corpus/clips.tsv) through the real CLI's default asr
 * (`submit --no-refine`, one `run` for all of them) and through bare faster-whisper
 * (`WhisperModel(dir).transcribe(media, beam_size=5)`, its own defaults), tiny.en for English and
 * base for the rest, no side told the language. Per clip, Sophia may make at most one error more
 * than bare (Chinese and Japanese by characters). One runner for every clip
 * (test/support/asr_accuracy.py, which `npm run bench:accuracy` also prints from), so the
 * models load once per side.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { test } from "node:test";
import { resolveSettings } from "../../core/app/config.js";
import { PROJECT } from "../support/harness.js";

const SHORT_CLIP_SEC = 10;
const MAX_EXTRA_ERRORS = 1;

interface Side {
  text: string;
  errors: number;
  words: number;
}
interface Measured {
  recordings: { stem: string; model: string; reference_words: number; sides: { sophia: Side; bare: Side } }[];
}

// About 100 s on a quiet 2-core machine (11 clips, two models per side); ten times that under load.
test("on every short corpus clip the default asr makes at most one error more than bare faster-whisper", { timeout: 1_200_000 }, () => {
  const directory = mkdtempSync(path.join(os.tmpdir(), "sophia-accuracy-"));
  try {
    const json = path.join(directory, "accuracy.json");
    const run = spawnSync(resolveSettings().python, [path.join(PROJECT, "test", "support", "asr_accuracy.py"), "--max-sec", String(SHORT_CLIP_SEC), "--json", json], {
      encoding: "utf8",
      env: { ...process.env, HF_HUB_OFFLINE: "1" },
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 1_150_000,
    });
    assert.equal(run.status, 0, run.stderr);
    const { recordings } = JSON.parse(readFileSync(json, "utf8")) as Measured;
    assert.ok(recordings.length >= 10, `the short clips of clips.tsv: ${recordings.map((r) => r.stem).join(", ")}`);
    const table = recordings.map((r) => `${r.stem} ${r.model}: sophia ${r.sides.sophia.errors} errors "${r.sides.sophia.text}", bare ${r.sides.bare.errors} "${r.sides.bare.text}" (of ${r.reference_words})`);
    process.stdout.write(table.map((line) => `# ${line}\n`).join(""));
    const worse = recordings.filter((r) => r.sides.sophia.errors > r.sides.bare.errors + MAX_EXTRA_ERRORS);
    assert.deepEqual(
      worse.map((r) => r.stem),
      [],
      `clips where Sophia makes more than ${MAX_EXTRA_ERRORS} error more than bare faster-whisper:\n${table.join("\n")}`,
    );
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
});
