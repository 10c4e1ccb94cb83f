/**
 * Which stretches of the media the engine is asked to align for a script's gaps (spec §5.5).
 *
 * Forced alignment costs one pass of Whisper's encoder per stretch of up to 30 s, whatever is said in
 * it, and a long reading has a gap every few seconds (a word misheard or missed). So the gaps are
 * grouped: a window takes the gaps that fit in WINDOW_SEC of speech, with every word said between
 * them and one timed word on either side, and the engine aligns all its words at once (one encoder
 * pass); only the gaps' words take the times found. The timed words around them are context that
 * pins the alignment to the speech, and the window starts and ends in the pauses around them.
 * A gap longer than a window is a window of its own, its words alone (the engine goes through it
 * chunk by chunk). A gap the engine misheard (ScriptGap.heard) is timed where it heard it, and is in
 * no window.
 */
import type { TimedWord } from "../transcript.js";
import type { GapTimes, ScriptPlan } from "./alignment.js";

/** A window's speech fits Whisper's 30 s, with room for the pad the engine keeps around speech. */
const WINDOW_SEC = 28;
/** At most this much of the pause before (after) a window's first (last) word is in the window. */
const PAUSE_SEC = 1;

export interface AlignWindow {
  /** Seconds of media. */
  start: number;
  end: number;
  /** The words (indices into ScriptPlan.words) said in it: the gaps' words and the timed words around them. */
  first: number;
  last: number;
  /** The gaps (indices into ScriptPlan.gaps) it times. */
  gaps: number[];
}

/** The windows that time every gap with a stretch of media to align on, in time order. */
export function alignWindows(plan: ScriptPlan): AlignWindow[] {
  const windows: AlignWindow[] = [];
  let open: AlignWindow | null = null;
  plan.gaps.forEach((gap, k) => {
    if (!(gap.end > gap.start) || gap.heard) return;
    const own = windowOf(plan.words, gap, k);
    if (open && own.end - open.start <= WINDOW_SEC && own.end - own.start <= WINDOW_SEC) {
      open.end = own.end;
      open.last = own.last;
      open.gaps.push(k);
      return;
    }
    open = own;
    windows.push(own);
  });
  return windows;
}

/** Per gap of the plan, the times its words got from the engine's alignment of its window (null: none). */
export function gapTimesOf(plan: ScriptPlan, windows: readonly AlignWindow[], aligned: readonly (GapTimes | undefined)[]): GapTimes[] {
  const times: GapTimes[] = plan.gaps.map(() => null);
  windows.forEach((window, w) => {
    const found = aligned[w];
    if (!found || found.length !== window.last - window.first + 1) return;
    for (const k of window.gaps) {
      const gap = plan.gaps[k] as ScriptPlan["gaps"][number];
      times[k] = found.slice(gap.first - window.first, gap.last - window.first + 1);
    }
  });
  return times;
}

/**
 * A gap's own window: its words and the timed word on either side, from the pause before the first
 * to the pause after the last. A gap longer than a window keeps its own stretch and words alone.
 */
function windowOf(words: readonly TimedWord[], gap: ScriptPlan["gaps"][number], k: number): AlignWindow {
  const alone = { start: gap.start, end: gap.end, first: gap.first, last: gap.last, gaps: [k] };
  if (gap.end - gap.start > WINDOW_SEC) return alone;
  const before = words[gap.first - 1];
  const after = words[gap.last + 1];
  const start = before ? Math.max(timed(words[gap.first - 2])?.end ?? 0, before.start - PAUSE_SEC, 0) : gap.start;
  const end = after ? Math.min(timed(words[gap.last + 2])?.start ?? Infinity, after.end + PAUSE_SEC) : gap.end;
  if (end - start > WINDOW_SEC) return alone;
  return { start, end, first: before ? gap.first - 1 : gap.first, last: after ? gap.last + 1 : gap.last, gaps: [k] };
}

/** The word, when it has a time yet (a word of another gap has none). */
function timed(word: TimedWord | undefined): TimedWord | undefined {
  return word && Number.isFinite(word.start) ? word : undefined;
}
