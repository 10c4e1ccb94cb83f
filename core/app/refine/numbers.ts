/**
 * Numbers as words, so that what the engine writes ("12%", "1,500", "3rd") lines up with what a
 * script spells out ("twelve percent", "fifteen hundred" does not, "one thousand five hundred" does).
 * Only for matching: the refined text never shows these words.
 */

const ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"];
const TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"];
const SCALES: [number, string][] = [
  [1e12, "trillion"],
  [1e9, "billion"],
  [1e6, "million"],
  [1e3, "thousand"],
  [1e2, "hundred"],
];
const ORDINAL_WORDS: Record<string, string> = { one: "first", two: "second", three: "third", five: "fifth", eight: "eighth", nine: "ninth", twelve: "twelfth" };
const SYMBOLS: Record<string, string> = { "%": "percent", "&": "and", $: "dollars", "€": "euros", "£": "pounds", "+": "plus" };

/** The words of a whole number below 10^15, e.g. 1205 → ["one", "thousand", "two", "hundred", "five"]. */
function integerWords(value: number): string[] {
  if (!Number.isSafeInteger(value) || value < 0) return [String(value)];
  if (value < 20) return [ONES[value] as string];
  if (value < 100) {
    const tens = TENS[Math.floor(value / 10)] as string;
    return value % 10 === 0 ? [tens] : [tens, ONES[value % 10] as string];
  }
  for (const [scale, name] of SCALES) {
    if (value >= scale) {
      const rest = value % scale;
      return [...integerWords(Math.floor(value / scale)), name, ...(rest === 0 ? [] : integerWords(rest))];
    }
  }
  return [String(value)];
}

function ordinal(words: string[]): string[] {
  const last = words.at(-1) as string;
  const irregular = ORDINAL_WORDS[last];
  const spoken = irregular ?? (last.endsWith("y") ? `${last.slice(0, -1)}ieth` : `${last}th`);
  return [...words.slice(0, -1), spoken];
}

/**
 * A token that contains digits, spelled out: "12%" → twelve percent, "3.5" → three point five,
 * "1,000" → one thousand, "21st" → twenty first, "$5" → five dollars. Anything else: null.
 */
export function spellNumber(token: string): string[] | null {
  const match = /^([$€£]?)(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(st|nd|rd|th|%|s)?$/i.exec(token);
  if (!match) return null;
  const [, currency, whole, fraction, suffix] = match as unknown as [string, string, string, string | undefined, string | undefined];
  const value = Number(whole.replace(/,/g, ""));
  if (!Number.isSafeInteger(value)) return null;
  let words = integerWords(value);
  if (fraction) words = [...words, "point", ...[...fraction].map((digit) => ONES[Number(digit)] as string)];
  const lowerSuffix = suffix?.toLowerCase();
  if (lowerSuffix && ["st", "nd", "rd", "th"].includes(lowerSuffix) && !fraction) words = ordinal(words);
  if (lowerSuffix === "%") words.push("percent");
  if (lowerSuffix === "s") words = plural(words); // "1990s", "the 80s"
  if (currency) words.push(SYMBOLS[currency] as string);
  return words;
}

function plural(words: string[]): string[] {
  const last = words.at(-1) as string;
  return [...words.slice(0, -1), last.endsWith("y") ? `${last.slice(0, -1)}ies` : `${last}s`];
}

export function spellSymbol(token: string): string | null {
  return SYMBOLS[token] ?? null;
}
