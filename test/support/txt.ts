/** Reading back what formatTxt writes (subtitles/txt.ts): Sophia never reads TXT itself. */

/** The text of each cue, in order: all a TXT file holds. */
export function parseTxt(text: string): string[] {
  return text
    .replace(/^\uFEFF/, "")
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}
