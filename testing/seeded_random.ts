/**
 * A small seeded pseudo-random generator (mulberry32), so that faults and test data repeat
 * exactly from run to run.
 *
 * @module
 */

/**
 * Returns a generator of numbers in [0, 1) for a seed: the same seed gives the same sequence.
 * Small seeds give well-spread numbers from the first draw on (a plain xorshift seeded with 1
 * starts near 0, so a rate drawn from it would strike the first call every time).
 *
 * @param seed Any 32-bit integer.
 * @returns The next number of the sequence at each call.
 *
 * @example
 * ```ts
 * import { seededRandom } from "./seeded_random.ts";
 * const next = seededRandom(7);
 * console.assert(next() < 1);
 * ```
 */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 0x1_0000_0000;
  };
}
