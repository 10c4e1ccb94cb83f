/**
 * The hand-off between asr and refine, declared once: asr leaves the word-level transcript in the
 * task's _tmp folder, refine reads it back, validated. Neither stage knows the other's internals.
 */
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomically } from "../atomic_write.js";
import { TranscriptSchema, type Transcript } from "../transcript.js";

const TRANSCRIPT_FILE = "transcript.json";

export function writeTranscript(tmpDir: string, transcript: Transcript): Promise<void> {
  return writeFileAtomically(path.join(tmpDir, TRANSCRIPT_FILE), JSON.stringify(transcript));
}

export async function readTranscript(tmpDir: string): Promise<Transcript> {
  return TranscriptSchema.parse(JSON.parse(await readFile(path.join(tmpDir, TRANSCRIPT_FILE), "utf8")));
}
