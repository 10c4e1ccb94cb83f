/** SRT text of `count` cues of ordinary words, one every 2–3 s: input for refine-only tasks. */
export function syntheticSrt(count: number, options: { wordsPerCue?: number; everySec?: number } = {}): string {
  const words = "this is a fairly ordinary sentence that the speaker says while the recording keeps going on".split(" ");
  const perCue = options.wordsPerCue ?? 8;
  const every = options.everySec ?? 2;
  const clock = (seconds: number) => {
    const pad = (value: number) => String(value).padStart(2, "0");
    return `${pad(Math.floor(seconds / 3600))}:${pad(Math.floor(seconds / 60) % 60)}:${pad(seconds % 60)},000`;
  };
  return Array.from({ length: count }, (_, i) => {
    const text = Array.from({ length: perCue }, (_, k) => words[(i * 3 + k) % words.length]).join(" ");
    return `${i + 1}\n${clock(i * every)} --> ${clock(i * every + every - 1)}\n${text}.\n`;
  }).join("\n");
}
