/**
 * The models this machine has, asked of models.py: the worker's own resolution rule run as a small
 * program (no model loaded), so `sophia-cli models`, `submit` and preflight agree with what the
 * worker will load, by construction.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { z } from "zod";
import { SophiaError, asError } from "../../errors.js";
import type { ModelInfo } from "../engine.js";
import type { FasterWhisperConfig } from "./options.js";
import { PYTHON_HINT } from "./python_setup.js";

export const MODELS_SCRIPT = fileURLToPath(new URL("./models.py", import.meta.url));
const MEDIA_PROBE_SCRIPT = fileURLToPath(new URL("./media_probe.py", import.meta.url));

const ModelInfoSchema = z.object({
  name: z.string(),
  source: z.enum(["path", "models_dir", "bundled", "hf_cache", "download"]),
  path: z.string().nullable(),
  size_bytes: z.number().int().nonnegative().nullable(),
  multilingual: z.boolean().nullable(),
}) satisfies z.ZodType<ModelInfo>;

const ProbeAnswerSchema = z.union([z.object({ audio: z.literal(true), duration_sec: z.number().nullable() }), z.object({ audio: z.literal(false), problem: z.string() })]);

const ListAnswerSchema = z.object({ models: z.array(ModelInfoSchema) });
const FindAnswerSchema = z.union([ModelInfoSchema, z.object({ error: z.object({ code: z.literal("model_unavailable"), message: z.string() }) })]);

export interface ModelLookup {
  /** The Python interpreter of the engine's venv. */
  python: string;
  /** `workspace/models`. */
  modelsDir?: string;
  /** Added to the inherited environment (SOPHIA_ALLOW_MODEL_DOWNLOAD, HF_HUB_CACHE, ...). */
  env?: Record<string, string>;
}

export async function listModels(lookup: ModelLookup, signal?: AbortSignal): Promise<ModelInfo[]> {
  return ListAnswerSchema.parse(await ask(lookup, [MODELS_SCRIPT, "list"], signal)).models;
}

/** Refuses (media_not_audio) a file with no audio stream the engine could decode: a text file, a silent video. */
export async function assertHasAudio(media: string, lookup: ModelLookup, signal?: AbortSignal): Promise<void> {
  const answer = ProbeAnswerSchema.parse(await ask(lookup, [MEDIA_PROBE_SCRIPT, media], signal));
  if (!answer.audio) throw new SophiaError("media_not_audio", `media ${media} cannot be transcribed: ${answer.problem}`, { details: { path: media } });
}

/** The model a name or directory resolves to; rejects with model_unavailable, saying how to provide it. */
export async function findModel(name: string, allowDownload: boolean, lookup: ModelLookup, signal?: AbortSignal): Promise<ModelInfo> {
  const answer = FindAnswerSchema.parse(await ask(lookup, [MODELS_SCRIPT, "find", name, ...(allowDownload ? ["--allow-download"] : [])], signal));
  if ("error" in answer) throw new SophiaError("model_unavailable", answer.error.message, { details: { model: name } });
  return answer;
}

/** False for an English-only model (tiny.en); a directory that does not say is judged by its name. */
export function isMultilingual(model: ModelInfo): boolean {
  return model.multilingual ?? !model.name.endsWith(".en");
}

/**
 * An English-only model writes English words for any speech, whatever language it is told (and
 * faster-whisper does not complain): such a request is refused before anything runs.
 */
export function assertModelSpeaks(config: Pick<FasterWhisperConfig, "language" | "task">, model: ModelInfo, available: readonly ModelInfo[]): void {
  if (isMultilingual(model)) return;
  const wanted = needsMultilingual(config);
  if (wanted === null) return;
  const alternatives = available.filter(isMultilingual).map((other) => `"${other.name}" (${other.source})`);
  const instead =
    alternatives.length > 0
      ? `use a multilingual model instead: ${alternatives.join(", ")}`
      : "no multilingual model is installed here: put a CTranslate2 Whisper model without .en (base, small, medium, large-v3) in workspace/models/<name>";
  throw new SophiaError("model_english_only", `model "${model.name}" is English-only and cannot ${wanted}; ${instead} (config_snapshot.engine.model, or submit --model)`, {
    details: { model: model.name, language: config.language, task: config.task },
  });
}

/** What the options ask that only a multilingual model can do ("translate", `transcribe language "de"`), or null. */
export function needsMultilingual(config: Pick<FasterWhisperConfig, "language" | "task">): string | null {
  if (config.task === "translate") return "translate";
  return config.language !== null && config.language !== "en" ? `transcribe language "${config.language}"` : null;
}

/** `signal` kills the lookup (it may be downloading a model): preflight stops when the runner is told to. */
async function ask(lookup: ModelLookup, args: string[], signal?: AbortSignal): Promise<unknown> {
  const env: NodeJS.ProcessEnv = { ...process.env, ...lookup.env };
  if (lookup.modelsDir) env.SOPHIA_MODELS_DIR = lookup.modelsDir;
  try {
    const { stdout } = await promisify(execFile)(lookup.python, args, { env, maxBuffer: 4 * 1024 * 1024, signal });
    return JSON.parse(stdout);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    const stderr = (error as { stderr?: string }).stderr?.trim();
    throw new SophiaError(
      "engine_unavailable",
      `cannot ask ${lookup.python} about models or media: ${asError(error).message}${stderr ? `\n${stderr}` : ""}; ${PYTHON_HINT}`,
      { cause: error },
    );
  }
}
