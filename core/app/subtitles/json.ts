/**
 * Sophia's subtitle JSON, for the desktop app's editor: every cue with its lines and its words,
 * each word with the times it is spoken, so an editor can re-time, split or join cues without
 * transcribing again. Times are seconds with millisecond precision. The schema is published as
 * schemas/subtitles.schema.json.
 */
import { z } from "zod";
import { SophiaError, asError, describeIssues } from "../errors.js";
import type { Cue } from "./cue.js";

const seconds = z.number().nonnegative();

export const SubtitleDocumentSchema = z.object({
  format: z.literal("sophia.subtitles"),
  version: z.literal(1),
  /** The spoken language as the engine detected it ("en"), or null when unknown. */
  language: z.string().nullable(),
  cues: z.array(
    z.object({
      start: seconds,
      end: seconds,
      /** The text as shown, top line first. */
      lines: z.array(z.string()),
      /** The cue's words in order, with when each is spoken; empty when not known. */
      words: z.array(
        z.object({
          text: z.string(),
          start: seconds,
          end: seconds,
          /** The engine's confidence in 0..1, when it gave one. */
          probability: z.number().min(0).max(1).optional(),
          /** Thai, Lao, Khmer, Burmese: a space goes before this word when the words are joined (a phrase boundary). */
          space_before: z.literal(true).optional(),
        }),
      ),
    }),
  ),
});
export type SubtitleDocument = z.infer<typeof SubtitleDocumentSchema>;

export function formatJson(cues: readonly Cue[], options: { language?: string | null } = {}): string {
  const document: SubtitleDocument = {
    format: "sophia.subtitles",
    version: 1,
    language: options.language ?? null,
    cues: cues.map((cue) => ({
      start: ms(cue.start),
      end: ms(cue.end),
      lines: cue.lines,
      words: (cue.words ?? []).map(({ text, start, end, probability, space_before }) => ({
        text,
        start: ms(start),
        end: ms(end),
        ...(probability === undefined ? {} : { probability }),
        ...(space_before ? { space_before } : {}),
      })),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}

export function parseJson(text: string, source = "JSON input"): Cue[] {
  let data: unknown;
  try {
    data = JSON.parse(text.replace(/^\uFEFF/, ""));
  } catch (error) {
    throw new SophiaError("subtitles_invalid", `${source} is not JSON: ${asError(error).message}`, { cause: error, details: { source } });
  }
  const result = SubtitleDocumentSchema.safeParse(data);
  if (!result.success) {
    const problems = describeIssues(result.error);
    throw new SophiaError("subtitles_invalid", `${source} is not Sophia subtitle JSON (schemas/subtitles.schema.json): ${problems}`, { details: { source } });
  }
  return result.data.cues.map((cue) => (cue.words.length > 0 ? cue : { start: cue.start, end: cue.end, lines: cue.lines }));
}

function ms(value: number): number {
  return Math.round(Math.max(0, value) * 1000) / 1000;
}
