/**
 * Engines by `config_snapshot.engine.type`, started on first use and shared by every task of one
 * runner process, so a long-running runner loads each model once rather than once per task.
 */
import { SophiaError } from "../errors.js";
import type { AsrEngine } from "./engine.js";
import { FasterWhisperEngine } from "./faster_whisper/engine.js";

export interface EngineSettings {
  /** The Python interpreter of the faster_whisper venv. */
  python: string;
  /** `workspace/models`: local model directories by name. */
  modelsDir: string;
  /** Worker processes per engine: the runner's concurrency. */
  maxWorkers: number;
  /** Whether a model missing locally may be downloaded (config.ts: allowModelDownload). */
  allowModelDownload: boolean;
}

const FACTORIES: Record<string, (settings: EngineSettings) => AsrEngine> = {
  faster_whisper: ({ allowModelDownload, ...settings }) => new FasterWhisperEngine({ ...settings, env: { SOPHIA_ALLOW_MODEL_DOWNLOAD: allowModelDownload ? "1" : "0" } }),
};

export const ENGINE_TYPES = Object.keys(FACTORIES);

export class EngineRegistry {
  private readonly started = new Map<string, AsrEngine>();

  constructor(private readonly settings: EngineSettings) {}

  get(type: string): AsrEngine {
    const existing = this.started.get(type);
    if (existing) return existing;
    const factory = FACTORIES[type];
    if (!factory) {
      throw new SophiaError("engine_unknown", `config_snapshot.engine.type "${type}" is not an engine this runner has; known: ${ENGINE_TYPES.join(", ")}`, {
        details: { engine: type },
      });
    }
    const engine = factory(this.settings);
    this.started.set(type, engine);
    return engine;
  }

  async close(): Promise<void> {
    await Promise.all([...this.started.values()].map((engine) => engine.close()));
    this.started.clear();
  }
}
