/**
 * Test data and its digests: deterministic pseudo-random bytes for a seed, SHA-256 in hex (so
 * that what arrived can be checked against what was sent), bytes cut into pieces or streamed,
 * and the EICAR test file.
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

/**
 * The EICAR anti-virus test file's text, which every scanner rejects (the local service's
 * scanner too). Written in two halves, so that no scanner flags this source file.
 *
 * @example
 * ```ts
 * import { EICAR } from "./data.ts";
 * const infected = new File([EICAR], "eicar.txt", { type: "text/plain" });
 * ```
 */
export const EICAR: string = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-" +
  "ANTIVIRUS-TEST-FILE!$H+H*";

/**
 * Cuts bytes into pieces of `size` bytes (the last one shorter), as views of the same memory.
 *
 * @param bytes The bytes.
 * @param size The size of a piece.
 * @returns The pieces, in order.
 *
 * @example
 * ```ts
 * import { pieces } from "./data.ts";
 * console.assert([...pieces(new Uint8Array(10), 4)].length === 3);
 * ```
 */
export function* pieces(bytes: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < bytes.length; offset += size) {
    yield bytes.subarray(offset, offset + size);
  }
}

/**
 * A stream of bytes in pieces of `size` bytes (copies, pulled one at a time): a body with no
 * length of its own, as a file read or a network body would be.
 *
 * @param bytes The bytes.
 * @param size The size of a piece.
 * @returns The stream.
 *
 * @example
 * ```ts
 * import { streamOf } from "./data.ts";
 * const body = streamOf(new Uint8Array(100_000), 16_384);
 * console.assert((await new Response(body).arrayBuffer()).byteLength === 100_000);
 * ```
 */
export function streamOf(bytes: Uint8Array, size: number): ReadableStream<Uint8Array> {
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}
