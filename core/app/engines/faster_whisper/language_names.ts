/**
 * Whisper's language names beside its codes, so `--language English` works as it does in
 * whisper-ctranslate2 (which takes the codes and the names of openai-whisper's tokenizer.py
 * `LANGUAGES` and `TO_LANGUAGE_CODE`, aliases included).
 */
import { SophiaError } from "../../errors.js";
import { WHISPER_LANGUAGES, type WhisperLanguage } from "./options.js";

const NAMES: Record<WhisperLanguage, string> = {
  en: "english", zh: "chinese", de: "german", es: "spanish", ru: "russian", ko: "korean", fr: "french", ja: "japanese", pt: "portuguese",
  tr: "turkish", pl: "polish", ca: "catalan", nl: "dutch", ar: "arabic", sv: "swedish", it: "italian", id: "indonesian", hi: "hindi",
  fi: "finnish", vi: "vietnamese", he: "hebrew", uk: "ukrainian", el: "greek", ms: "malay", cs: "czech", ro: "romanian", da: "danish",
  hu: "hungarian", ta: "tamil", no: "norwegian", th: "thai", ur: "urdu", hr: "croatian", bg: "bulgarian", lt: "lithuanian", la: "latin",
  mi: "maori", ml: "malayalam", cy: "welsh", sk: "slovak", te: "telugu", fa: "persian", lv: "latvian", bn: "bengali", sr: "serbian",
  az: "azerbaijani", sl: "slovenian", kn: "kannada", et: "estonian", mk: "macedonian", br: "breton", eu: "basque", is: "icelandic",
  hy: "armenian", ne: "nepali", mn: "mongolian", bs: "bosnian", kk: "kazakh", sq: "albanian", sw: "swahili", gl: "galician", mr: "marathi",
  pa: "punjabi", si: "sinhala", km: "khmer", sn: "shona", yo: "yoruba", so: "somali", af: "afrikaans", oc: "occitan", ka: "georgian",
  be: "belarusian", tg: "tajik", sd: "sindhi", gu: "gujarati", am: "amharic", yi: "yiddish", lo: "lao", uz: "uzbek", fo: "faroese",
  ht: "haitian creole", ps: "pashto", tk: "turkmen", nn: "nynorsk", mt: "maltese", sa: "sanskrit", lb: "luxembourgish", my: "myanmar",
  bo: "tibetan", tl: "tagalog", mg: "malagasy", as: "assamese", tt: "tatar", haw: "hawaiian", ln: "lingala", ha: "hausa", ba: "bashkir",
  jw: "javanese", su: "sundanese", yue: "cantonese",
};

const ALIASES: Record<string, WhisperLanguage> = {
  burmese: "my", valencian: "ca", flemish: "nl", haitian: "ht", letzeburgesch: "lb", pushto: "ps", panjabi: "pa", moldavian: "ro",
  moldovan: "ro", sinhalese: "si", castilian: "es", mandarin: "zh",
};

const BY_NAME = new Map<string, WhisperLanguage>([...Object.entries(NAMES).map(([code, name]) => [name, code as WhisperLanguage] as const), ...Object.entries(ALIASES)]);
const CODES = new Set<string>(WHISPER_LANGUAGES);

/**
 * A Whisper code from a code ("de") or a name in any case ("German", "haitian creole"); a value that
 * is neither is refused in one line, with the nearest names when there are some.
 */
export function whisperLanguage(value: string, where = "language"): WhisperLanguage {
  const key = value.trim().toLowerCase();
  if (CODES.has(key)) return key as WhisperLanguage;
  const named = BY_NAME.get(key);
  if (named) return named;
  const near = [...BY_NAME.keys()].filter((name) => name.startsWith(key.slice(0, 3)) && key.length >= 3).slice(0, 3);
  const hint = near.length > 0 ? `did you mean ${near.map((name) => `"${name}"`).join(" or ")}? ` : "";
  throw new SophiaError("usage", `${where} "${value}" is not a language Whisper knows: ${hint}give a code (de, pt, zh) or an English name (German, Portuguese, Chinese)`, { details: { language: value } });
}
