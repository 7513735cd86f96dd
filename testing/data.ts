/**
 * Test data and its digests: deterministic pseudo-random bytes for a seed, and SHA-256 in hex,
 * so that what arrived can be checked against what was sent.
 *
 * @module
 */

/**
 * `size` bytes of pseudo-random data (xorshift), the same for the same seed.
 *
 * @param size How many bytes.
 * @param seed Which data. @default {1}
 * @returns The bytes.
 *
 * @example
 * ```ts
 * import { randomBytes } from "./data.ts";
 * const bytes = randomBytes(1024, 7);
 * console.assert(bytes.length === 1024);
 * ```
 */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/**
 * The hex SHA-256 of some bytes.
 *
 * @param bytes The bytes.
 * @returns 64 lower-case hex digits.
 *
 * @example
 * ```ts
 * import { sha256 } from "./data.ts";
 * console.assert((await sha256(new Uint8Array())).startsWith("e3b0c442"));
 * ```
 */
export async function sha256(bytes: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}
