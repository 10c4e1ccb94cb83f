/** The stages this runner offers, by the names a task's `pipeline` uses, each built with what it uses. */
import type { EngineRegistry } from "../engines/registry.js";
import { createAsrStage } from "./asr.js";
import { createRefineStage } from "./refine.js";
import type { Stage } from "./stage.js";

export function createStages(engines: EngineRegistry): readonly Stage[] {
  return [createAsrStage(engines), createRefineStage(engines)];
}
