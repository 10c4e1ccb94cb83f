/** The stages this runner offers, by the names a task's `pipeline` uses. */
import { asrStage } from "./asr.js";
import { refineStage } from "./refine.js";
import type { Stage } from "./stage.js";

export const STAGES: readonly Stage[] = [asrStage, refineStage];
