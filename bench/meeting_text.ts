/**
 * Text for benchmarks: sentences of the kind people say in meetings, recombined by a seeded
 * generator, so every run measures the same words.
 */
const OPENINGS = ["So", "Well,", "Next,", "Then", "Honestly,", "As you know,", "Last week", "In March", "On Friday"];
const SUBJECTS = ["the team", "our customers", "Maria Lopez", "the new editor", "the board", "everyone here", "the support desk", "John Smith from finance", "the London office"];
const VERBS = ["reviewed", "approved", "rejected", "discussed", "shipped", "measured", "questioned", "planned", "finished"];
const OBJECTS = ["the quarterly budget", "a short report", "the subtitle timing rules", "two new projects", "the hiring plan", "every open request", "the release notes", "a very long recording"];
const TAILS = ["before the deadline", "with the whole group", "in about 12% less time", "after a long discussion", "because it mattered", "and nobody complained", "at the last minute", "for the third time this year"];

export function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state * 1664525 + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

export function meetingSentences(count: number, random: () => number): string[] {
  const pick = <T>(list: readonly T[]) => list[Math.floor(random() * list.length)] as T;
  return Array.from({ length: count }, () => {
    const clause = `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}`;
    const body = random() < 0.4 ? `${pick(OPENINGS)} ${clause}, and ${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)}` : `${pick(OPENINGS)} ${clause}`;
    return `${body.charAt(0).toUpperCase()}${body.slice(1)}.`;
  });
}
