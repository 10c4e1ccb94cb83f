/**
 * The faster_whisper options (config_snapshot.engine): one checked schema with its defaults, the
 * default model by language, and what the worker receives.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { isSophiaError } from "../../core/app/errors.js";
import { assertModelSpeaks, isMultilingual } from "../../core/app/engines/faster_whisper/models.js";
import { FasterWhisperConfigSchema, resolveFasterWhisperConfig, WHISPER_LANGUAGES, workerOptions } from "../../core/app/engines/faster_whisper/options.js";
import type { ModelInfo } from "../../core/app/engines/engine.js";
import { resolveEngineConfig } from "../../core/app/engines/registry.js";

const ENGINE = { type: "faster_whisper" };

function refusal(settings: Record<string, unknown>): string {
  try {
    resolveFasterWhisperConfig(settings);
  } catch (error) {
    assert.ok(isSophiaError(error, "task_invalid"), String(error));
    return error.message;
  }
  assert.fail(`expected ${JSON.stringify(settings)} to be refused`);
}

describe("engine options", { timeout: 60_000 }, () => {
  test("an empty engine object gets every default, documented in the schema", () => {
    const config = resolveFasterWhisperConfig(ENGINE);
    assert.deepEqual(config, {
      type: "faster_whisper",
      model: "base",
      language: null,
      task: "transcribe",
      beam_size: 5,
      temperature: [0, 0.2, 0.4, 0.6, 0.8, 1],
      initial_prompt: null,
      hotwords: null,
      vad_filter: false,
      condition_on_previous_text: true,
      hallucination_silence_threshold: null,
      compute_type: "int8",
      device: "cpu",
      cpu_threads: 0,
      lanes: 1,
      batch_size: 1,
      allow_download: false,
    });
    for (const [key, field] of Object.entries(FasterWhisperConfigSchema.shape)) assert.ok(field.description, `${key} has a doc line`);
  });

  test("a misspelt or unknown option is refused by name, listing the options that exist", () => {
    const message = refusal({ ...ENGINE, vad_filtre: true });
    assert.match(message, /config_snapshot\.engine: .*"vad_filtre"/);
    assert.match(message, /faster_whisper options: type, model, language, task, beam_size/);
    assert.match(refusal({ ...ENGINE, beam_size: 5, best_of: 3, patience: 2 }), /"best_of".*"patience"|"patience".*"best_of"/);
  });

  test("values of the wrong kind are refused, naming the field", () => {
    assert.match(refusal({ ...ENGINE, beam_size: "five" }), /config_snapshot\.engine\.beam_size/);
    assert.match(refusal({ ...ENGINE, language: "french" }), /config_snapshot\.engine\.language/);
    assert.match(refusal({ ...ENGINE, language: "EN" }), /config_snapshot\.engine\.language/);
    assert.match(refusal({ ...ENGINE, task: "summarize" }), /config_snapshot\.engine\.task/);
    assert.match(refusal({ ...ENGINE, temperature: [0, 1.5] }), /config_snapshot\.engine\.temperature/);
    assert.match(refusal({ ...ENGINE, temperature: [] }), /config_snapshot\.engine\.temperature/);
    assert.match(refusal({ ...ENGINE, compute_type: "int4" }), /config_snapshot\.engine\.compute_type/);
    assert.match(refusal({ ...ENGINE, hallucination_silence_threshold: 0 }), /hallucination_silence_threshold/);
  });

  test("batching needs the VAD to cut the audio, and says so", () => {
    assert.match(refusal({ ...ENGINE, batch_size: 8 }), /batch_size.*needs vad_filter: true/);
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, batch_size: 8, vad_filter: true }).batch_size, 8);
  });

  test("the default model is tiny.en for English transcription and base for every other language, unknown included", () => {
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, language: "en" }).model, "tiny.en");
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, language: "en", task: "translate" }).model, "base");
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, language: "de" }).model, "base");
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, language: null }).model, "base");
    assert.equal(resolveFasterWhisperConfig({ ...ENGINE, model: "small", language: "en" }).model, "small");
  });

  test("every Whisper language code is accepted", () => {
    for (const language of WHISPER_LANGUAGES) assert.equal(resolveFasterWhisperConfig({ ...ENGINE, language }).language, language);
    assert.equal(WHISPER_LANGUAGES.length, 100);
  });

  test("the worker receives every option and nothing that names the engine or the model", () => {
    const options = workerOptions(resolveFasterWhisperConfig({ ...ENGINE, model: "base", language: "fr", beam_size: 2 }));
    assert.equal(options.language, "fr");
    assert.equal(options.beam_size, 2);
    assert.ok(!("type" in options) && !("model" in options));
    assert.deepEqual(Object.keys(options).sort(), Object.keys(FasterWhisperConfigSchema.shape).filter((key) => key !== "type" && key !== "model").sort());
  });

  test("an unknown engine type is engine_unknown, before its options are looked at", () => {
    assert.throws(
      () => resolveEngineConfig({ type: "whisperx", vad_filtre: true }),
      (error) => isSophiaError(error, "engine_unknown") && /whisperx/.test(error.message),
    );
  });

  describe("English-only models", () => {
    const tinyEn: ModelInfo = { name: "tiny.en", source: "bundled", path: "/m/tiny.en", size_bytes: 78e6, multilingual: false };
    const base: ModelInfo = { name: "base", source: "bundled", path: "/m/base", size_bytes: 148e6, multilingual: true };
    const refusal = (config: Record<string, unknown>, available: ModelInfo[]) => {
      try {
        assertModelSpeaks(resolveFasterWhisperConfig({ ...ENGINE, model: "tiny.en", ...config }), tinyEn, available);
      } catch (error) {
        assert.ok(isSophiaError(error, "model_english_only"), String(error));
        return error.message;
      }
      return null;
    };

    test("take English and undetected speech, and refuse another language or translation, naming the multilingual models here", () => {
      assert.equal(refusal({ language: "en" }, [tinyEn, base]), null);
      assert.equal(refusal({}, [tinyEn, base]), null);
      assert.match(refusal({ language: "de" }, [tinyEn, base]) ?? "", /"tiny\.en" is English-only and cannot transcribe language "de"; use a multilingual model instead: "base" \(bundled\)/);
      assert.match(refusal({ task: "translate" }, [tinyEn, base]) ?? "", /cannot translate/);
      assert.match(refusal({ language: "de" }, [tinyEn]) ?? "", /no multilingual model is installed here: put .* in workspace\/models/);
    });

    test("a model not yet downloaded is judged by its name", () => {
      const pending = (name: string): ModelInfo => ({ name, source: "download", path: null, size_bytes: null, multilingual: null });
      assert.equal(isMultilingual(pending("small.en")), false);
      assert.equal(isMultilingual(pending("large-v3")), true);
    });
  });
});
