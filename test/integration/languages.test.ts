/**
 * Languages and engine options through the real CLI and the real models (tiny.en, English-only;
 * base, multilingual): the spoken language is honoured or detected, English-only models are refused
 * what they cannot do before anything runs, translation gives English, and engine options are
 * checked by name.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import path from "node:path";
import { after, before, describe, test } from "node:test";
import type { ModelInfo } from "../../core/app/interfaces.js";
import { TranscriptSchema } from "../../core/app/transcript.js";
import { SENTENCE, bundledModelDir, cli, dropTask, makeWorkspace, readEvents, readTask, specExampleTask, speech, srtText, transcode, type TestWorkspace } from "../support/harness.js";
import { CORPUS } from "../support/corpus.js";

const FRENCH = "Bonjour à tous. Nous allons commencer par une courte présentation du projet, puis nous parlerons du budget de l'année prochaine.";
/** Seconds of each corpus reading transcribed: enough for a dozen sentences' worth of words, short enough for the suite. */
const EXCERPT_SEC = 12;

/** Lower-case words in any alphabet, punctuation dropped. */
function words(text: string): string[] {
  return text.normalize("NFC").toLowerCase().replace(/[^\p{L}\p{N}' ]+/gu, " ").split(/\s+/).filter(Boolean);
}

/** The share of the words heard that occur in the text read: an excerpt's precision against the whole text. */
function heardInText(heard: string, text: string): number {
  const known = new Set(words(text));
  const said = words(heard);
  return said.filter((word) => known.has(word)).length / Math.max(1, said.length);
}

describe("languages and engine options", { timeout: 600_000 }, () => {
  let ws: TestWorkspace;

  before(() => {
    ws = makeWorkspace();
    speech(ws, "english.wav", SENTENCE);
    execFileSync("espeak-ng", ["-v", "fr", "-s", "150", "-w", path.join(ws.inbox, "french.wav"), FRENCH]);
    for (const reading of ["reading_de", "reading_es"]) transcode(path.join(CORPUS, `${reading}.mp3`), path.join(ws.inbox, `${reading}.mp3`), EXCERPT_SEC);
  });
  after(() => rmSync(ws.root, { recursive: true, force: true }));

  const task = (taskId: string, engine: Record<string, unknown>, media = "english.wav", pipeline = ["asr"]) =>
    specExampleTask({
      task_id: taskId,
      pipeline,
      config_snapshot: { engine: { type: "faster_whisper", ...engine }, debug: { keep_tmp: true } },
      input: { media: `workspace/inbox/${media}`, script: null },
      output: { raw_srt: `workspace/outputs/${taskId}.raw.srt`, refined_srt: `workspace/outputs/${taskId}.refined.srt` },
    });
  const rawText = (taskId: string) => srtText(readFileSync(path.join(ws.dir, "outputs", `${taskId}.raw.srt`), "utf8"));
  const asrSummary = (taskId: string) => {
    const completed = readEvents(ws, taskId).find((event) => event.type === "stage.completed" && event.payload.stage === "asr");
    assert.ok(completed?.type === "stage.completed", `${taskId}: asr completed`);
    return completed.payload.summary as { model: string; task: string; language: string; spoken_language: string; language_probability: number | null };
  };
  const tasksOnDisk = () => readdirSync(ws.tasksDir).filter((name) => name.endsWith(".task.json")).length;

  /** Runs a task that must fail before any stage starts; returns its stored error. */
  async function failsBeforeAnyStage(taskId: string): Promise<{ code: string; message: string }> {
    const result = await cli(ws, ["run", "--task", taskId]);
    assert.equal(result.code, 1, result.stderr);
    assert.equal(readTask(ws, taskId).status, "failed");
    assert.ok(!readEvents(ws, taskId).some((event) => event.type === "stage.started"), "no stage started");
    return readTask(ws, taskId).error as { code: string; message: string };
  }

  test("an unknown engine option fails the task before any stage runs, naming the key", async () => {
    dropTask(ws, task("misspelt_option", { model: "tiny.en", vad_filtre: true }));
    const error = await failsBeforeAnyStage("misspelt_option");
    assert.equal(error.code, "task_invalid");
    assert.match(error.message, /config_snapshot\.engine: Unrecognized key: "vad_filtre"/);
    assert.match(error.message, /vad_filter/, "the options that exist are listed");
  });

  test("an English-only model asked for another language, or to translate, is refused at submit and writes no task", async () => {
    const before = tasksOnDisk();
    const french = await cli(ws, ["submit", path.join(ws.inbox, "french.wav"), "--model", "tiny.en", "--language", "fr"]);
    assert.equal(french.code, 2, french.stderr);
    assert.match(french.stderr, /model "tiny\.en" is English-only and cannot transcribe language "fr"; use a multilingual model instead: "base" \(bundled\)/);
    const translate = await cli(ws, ["submit", path.join(ws.inbox, "french.wav"), "--model", "tiny.en", "--translate", "--json"]);
    assert.equal(translate.code, 2, translate.stderr);
    assert.equal((JSON.parse(translate.stdout) as { error: { code: string } }).error.code, "model_english_only");
    const english = await cli(ws, ["submit", path.join(ws.inbox, "english.wav"), "--model", "tiny.en", "--language", "en", "--id", "english_ok"]);
    assert.equal(english.code, 0, english.stderr);
    assert.equal(tasksOnDisk(), before + 1, "only the English task was written");
  });

  test("a task file asking an English-only model for French fails before any stage runs", async () => {
    dropTask(ws, task("tiny_fr", { model: "tiny.en", language: "fr" }, "french.wav"));
    const error = await failsBeforeAnyStage("tiny_fr");
    assert.equal(error.code, "model_english_only");
    assert.match(error.message, /English-only.*"base"/);
  });

  test("submit refuses a model that cannot be found, and engine options that do not exist, before writing the task", async () => {
    const before = tasksOnDisk();
    const missing = await cli(ws, ["submit", path.join(ws.inbox, "english.wav"), "--model", "medium"]);
    assert.equal(missing.code, 2, missing.stderr);
    assert.match(missing.stderr, /model "medium" is not available offline: put a CTranslate2 model directory at .*models\/medium/);
    const misspelt = await cli(ws, ["submit", path.join(ws.inbox, "english.wav"), "--engine-options", '{"beam_size": 1, "vad_filtre": true}']);
    assert.equal(misspelt.code, 2, misspelt.stderr);
    assert.match(misspelt.stderr, /Unrecognized key: "vad_filtre"/);
    // --language takes names ("french"); a task file's engine options take the code only.
    const language = await cli(ws, ["submit", path.join(ws.inbox, "english.wav"), "--engine-options", '{"language": "french"}']);
    assert.equal(language.code, 2, language.stderr);
    assert.match(language.stderr, /config_snapshot\.engine\.language/);
    assert.equal(tasksOnDisk(), before);
  });

  test("`models` lists each model with its size, languages and where it was found", async () => {
    mkdirSync(path.join(ws.dir, "models"), { recursive: true });
    symlinkSync(bundledModelDir(), path.join(ws.dir, "models", "house-model"));
    const listed = await cli(ws, ["models", "--json"]);
    assert.equal(listed.code, 0, listed.stderr);
    const models = JSON.parse(listed.stdout) as ModelInfo[];
    const byName = new Map(models.map((model) => [model.name, model]));
    assert.deepEqual(
      ["house-model", "tiny.en", "base"].map((name) => [name, byName.get(name)?.source, byName.get(name)?.multilingual]),
      [
        ["house-model", "models_dir", false],
        ["tiny.en", "bundled", false],
        ["base", "bundled", true],
      ],
    );
    assert.ok((byName.get("base")?.size_bytes ?? 0) > 100e6, "base is about 148 MB");
    const table = await cli(ws, ["models"]);
    assert.match(table.stdout, /^base\s+148 MB\s+multilingual\s+bundled\s+\//m);
    assert.match(table.stdout, /^house-model\s+78 MB\s+English only\s+workspace\/models\s+\//m);
  });

  test("base detects French, German and Spanish, or takes the language it is given; translate gives English that refine treats as English", async () => {
    dropTask(ws, task("fr_detected", {}, "french.wav"));
    dropTask(ws, task("fr_translated", { task: "translate" }, "french.wav", ["asr", "refine"]));
    dropTask(ws, task("de_detected", {}, "reading_de.mp3"));
    dropTask(ws, task("es_given", { language: "es" }, "reading_es.mp3"));
    const result = await cli(ws, ["run"], {}, 600_000);
    assert.equal(result.code, 0, result.stderr);

    const french = asrSummary("fr_detected");
    assert.deepEqual([french.model, french.task, french.language, french.spoken_language], ["base", "transcribe", "fr", "fr"], "no model and no language: base, which detects");
    assert.ok(french.language_probability !== null && french.language_probability > 0.5, `probability ${french.language_probability}`);
    assert.ok(heardInText(rawText("fr_detected"), FRENCH) >= 0.5, `French heard: ${rawText("fr_detected")}`);

    const translated = asrSummary("fr_translated");
    assert.deepEqual([translated.task, translated.language, translated.spoken_language], ["translate", "en", "fr"]);
    const english = rawText("fr_translated");
    assert.match(english, /\b(we|the|will|good|to|of)\b/i, `English words: ${english}`);
    assert.ok(heardInText(english, FRENCH) <= 0.2, `not French: ${english}`);
    const handedOver = TranscriptSchema.parse(JSON.parse(readFileSync(path.join(ws.dir, "outputs", "_tmp", "fr_translated", "transcript.json"), "utf8")));
    assert.equal(handedOver.language, "en", "refine receives the words as English");
    assert.ok(existsSync(path.join(ws.dir, "outputs", "fr_translated.refined.srt")));

    const german = asrSummary("de_detected");
    assert.deepEqual([german.language, german.spoken_language], ["de", "de"]);
    assert.ok((german.language_probability ?? 0) > 0.9, `probability ${german.language_probability}`);
    // The text's 17th-century spellings ("Simplicissimus", "allenthalben", "verbesserter") are words
    // base writes the modern way: 11 of its 16 words on one CPU, 12 on another; English or noise would share almost none.
    assert.ok(heardInText(rawText("de_detected"), readFileSync(path.join(CORPUS, "reading_de.txt"), "utf8")) >= 0.6, rawText("de_detected"));

    const spanish = asrSummary("es_given");
    assert.deepEqual([spanish.language, spanish.language_probability], ["es", null], "a given language is not detected, so it has no probability");
    assert.ok(heardInText(rawText("es_given"), readFileSync(path.join(CORPUS, "reading_es.txt"), "utf8")) >= 0.7, rawText("es_given"));
  });
});
