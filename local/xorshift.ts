/**
 * A small seeded pseudo-random generator (xorshift32), so that faults and test data repeat
 * exactly from run to run.
 *
 * @module
 */

/**
 * Returns a generator of numbers in [0, 1) for a seed.
 *
 * @param seed Any integer; 0 is taken as 1.
 * @returns The next number at each call.
 *
 * @example
 * ```ts
 * import { xorshift } from "./xorshift.ts";
 * const next = xorshift(7);
 * console.assert(next() < 1);
 * ```
 */
export function xorshift(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 0x1_0000_0000;
  };
}
