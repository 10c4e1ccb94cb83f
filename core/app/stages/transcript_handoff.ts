/**
 * The hand-off between asr and refine, declared once: asr leaves the word-level transcript in the
 * task's _tmp folder, refine reads it back, validated. Neither stage knows the other's internals.
 */
import { lstatSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import { SophiaError } from "../errors.js";
import { TranscriptSchema, type Transcript } from "../transcript.js";

const TRANSCRIPT_FILE = "transcript.json";

/** Into the folder the runner made (tmp_folder.ts), refused if it was swapped for a link since. */
export function writeTranscript(tmpDir: string, transcript: Transcript): Promise<void> {
  return writeFileAtomically(path.join(tmpDir, TRANSCRIPT_FILE), JSON.stringify(transcript), {
    check: () => {
      if (!lstatSync(tmpDir).isDirectory()) throw new SophiaError("output_reserved", `${tmpDir} is no longer the folder the runner made: not written through`, { details: { path: tmpDir } });
    },
  });
}

export async function readTranscript(tmpDir: string): Promise<Transcript> {
  return TranscriptSchema.parse(JSON.parse(await readFile(path.join(tmpDir, TRANSCRIPT_FILE), "utf8")));
}
