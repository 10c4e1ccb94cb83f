/**
 * Plain text, as Whisper writes it: one cue per line, a cue's lines joined by a space, no times.
 * For reading, pasting into a document, or a search index.
 */
import { oneLine, type Cue } from "./cue.js";

export function formatTxt(cues: readonly Cue[]): string {
  return cues.map((cue) => `${oneLine(cue)}\n`).join("");
}
