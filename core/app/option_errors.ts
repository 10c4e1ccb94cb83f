/**
 * How a set of options that fails its schema is reported, for refine's rules and the engine's
 * options alike: every field at fault named with where it came from, then the keys that exist.
 */
import type { z } from "zod";
import { SophiaError, describeIssues } from "./errors.js";

export function invalidOptions(error: z.ZodError, where: string, what: string, known: readonly string[]): SophiaError {
  const problems = describeIssues(error, [where]);
  return new SophiaError("task_invalid", `${problems} (${what}: ${known.join(", ")})`, { details: { issues: error.issues } });
}
