/** Jobs for the off-thread tests: plain functions of plain data, as runOffThread expects. */
import { SophiaError } from "../../core/app/errors.js";

export function sumJob(input: { numbers: number[] }, progress: (fraction: number, msg: string) => void): { sum: number } {
  progress(0.5, "half way");
  return { sum: input.numbers.reduce((a, b) => a + b, 0) };
}

export function refusingJob(input: { what: string }): never {
  throw new SophiaError("script_mismatch", `the script does not fit: ${input.what}`, { details: { what: input.what } });
}

/** Says it has started, then keeps its thread busy until it is terminated. */
export function spinningJob(_input: null, progress: (fraction: number, msg: string) => void): never {
  progress(0, "spinning");
  for (;;) Math.sqrt(Math.random());
}
