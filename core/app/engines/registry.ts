/**
 * Engines by `config_snapshot.engine.type`, started on first use and shared by every task of one
 * runner process, so a long-running runner loads each model once rather than once per task.
 */
import { SophiaError } from "../errors.js";
import type { AsrEngine, ClusterSettings, EngineConfig } from "./engine.js";
import { FasterWhisperEngine } from "./faster_whisper/engine.js";
import { resolveFasterWhisperConfig } from "./faster_whisper/options.js";

export interface EngineSettings {
  /** The Python interpreter of the faster_whisper venv. */
  python: string;
  /** `workspace/models`: local model directories by name. */
  modelsDir: string;
  /** Worker processes per engine: the runner's concurrency. */
  maxWorkers: number;
  /** Whether a model missing locally may be downloaded (config.ts: allowModelDownload). */
  allowModelDownload: boolean;
  /** The Ray cluster the engines run on, or null for this machine (config.ts: cluster, clusterSharedPaths). */
  cluster?: ClusterSettings | null;
}

interface EngineKind {
  create(settings: EngineSettings): AsrEngine;
  /** Validates the engine's options and fills in their defaults; throws task_invalid naming each bad field. */
  resolveConfig(settings: Record<string, unknown>, where: string): EngineConfig;
}

const ENGINES: Record<string, EngineKind> = {
  faster_whisper: {
    create: ({ allowModelDownload, ...settings }) => new FasterWhisperEngine({ ...settings, env: { SOPHIA_ALLOW_MODEL_DOWNLOAD: allowModelDownload ? "1" : "0" } }),
    resolveConfig: resolveFasterWhisperConfig,
  },
};

export const ENGINE_TYPES = Object.keys(ENGINES);

/** `config_snapshot.engine` checked against its engine's schema, every default filled in. */
export function resolveEngineConfig(settings: { type: string } & Record<string, unknown>, where = "config_snapshot.engine"): EngineConfig {
  return engineKind(settings.type).resolveConfig(settings, where);
}

function engineKind(type: string): EngineKind {
  const kind = ENGINES[type];
  if (!kind) {
    throw new SophiaError("engine_unknown", `config_snapshot.engine.type "${type}" is not an engine this runner has; known: ${ENGINE_TYPES.join(", ")}`, {
      details: { engine: type },
    });
  }
  return kind;
}

export class EngineRegistry {
  private readonly started = new Map<string, AsrEngine>();

  constructor(private readonly settings: EngineSettings) {}

  get(type: string): AsrEngine {
    const existing = this.started.get(type);
    if (existing) return existing;
    const engine = engineKind(type).create(this.settings);
    this.started.set(type, engine);
    return engine;
  }

  /** With a cluster: reaches it with every engine kind, before any task starts (AsrEngine.connect). */
  async connect(signal?: AbortSignal): Promise<void> {
    if (!this.settings.cluster) return;
    for (const type of ENGINE_TYPES) await this.get(type).connect?.(signal);
  }

  async close(): Promise<void> {
    await Promise.all([...this.started.values()].map((engine) => engine.close()));
    this.started.clear();
  }
}
