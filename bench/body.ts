/**
 * Benchmark bodies: deterministic pseudo-random bytes produced chunk by chunk, so that no
 * body is ever whole in the benchmark's memory, and their MD5 (what S3 reports as the ETag
 * of a single-request upload) to check that every upload arrived intact.
 *
 * @module
 */

import { createHash } from "node:crypto";
import { randomBytes } from "../testing/data.ts";

/** The size of each chunk a body stream yields: 64 KiB, as browsers read files. */
export const CHUNK_BYTES = 64 * 1024;

const BLOCK_BYTES = 1024 * 1024;
const NOISE_BLOCKS = 8;
const blocks = new Map<number, Uint8Array>();

/** A 1 MiB block of noise for a seed (the suite's test data), made once per seed. */
function block(seed: number): Uint8Array {
  let bytes = blocks.get(seed);
  if (!bytes) blocks.set(seed, bytes = randomBytes(BLOCK_BYTES, seed));
  return bytes;
}

/**
 * Yields the bytes of body `seed` of `size` bytes, one fresh chunk at a time. Chunk `i` is
 * a slice of a noise block (one of eight, picked by the seed) at an offset that moves with
 * `i`, with `i` and the seed written into its first bytes, so that lost, repeated or
 * reordered chunks change the digest and no two seeds give the same body.
 *
 * @param size The body's length in bytes.
 * @param seed Which body: the same seed and size always give the same bytes.
 * @param chunkBytes The chunk size.
 *
 * @example
 * ```ts ignore
 * import { bodyChunks } from "./body.ts";
 * let total = 0;
 * for (const chunk of bodyChunks(1_000_000, 7)) total += chunk.length;
 * ```
 */
export function* bodyChunks(
  size: number,
  seed: number,
  chunkBytes = CHUNK_BYTES,
): Generator<Uint8Array<ArrayBuffer>> {
  const noise = block((seed % NOISE_BLOCKS) + 1);
  let sent = 0;
  for (let i = 0; sent < size; i++) {
    const length = Math.min(chunkBytes, size - sent);
    const chunk = new Uint8Array(length);
    const offset = (i * 4099) % (BLOCK_BYTES - chunkBytes);
    chunk.set(noise.subarray(offset, offset + length));
    const stamp = new DataView(chunk.buffer);
    if (length >= 4) stamp.setUint32(0, i, true);
    if (length >= 8) stamp.setUint32(4, seed, true);
    sent += length;
    yield chunk;
  }
}

/**
 * The body as a byte stream that makes each chunk only when it is pulled.
 *
 * @param size The body's length in bytes.
 * @param seed Which body.
 * @returns A stream of exactly `size` bytes.
 *
 * @example
 * ```ts ignore
 * import { bodyStream } from "./body.ts";
 * const stream = bodyStream(20 * 1024 * 1024, 3);
 * ```
 */
export function bodyStream(size: number, seed: number): ReadableStream<Uint8Array<ArrayBuffer>> {
  const chunks = bodyChunks(size, seed);
  return new ReadableStream({
    pull(controller) {
      const next = chunks.next();
      if (next.done) controller.close();
      else controller.enqueue(next.value);
    },
  }, { highWaterMark: 0 });
}

const digests = new Map<string, string>();

/**
 * The hex MD5 of body `seed` of `size` bytes, computed once per body outside any timed run
 * and remembered. S3 (and the local S3) report it as the ETag of a single-request upload.
 *
 * @param size The body's length.
 * @param seed Which body.
 * @returns The hex MD5.
 *
 * @example
 * ```ts ignore
 * import { bodyMd5 } from "./body.ts";
 * const expected = bodyMd5(1024, 1);
 * ```
 */
export function bodyMd5(size: number, seed: number): string {
  const key = `${size}:${seed}`;
  let digest = digests.get(key);
  if (digest) return digest;
  const hash = createHash("md5");
  for (const chunk of bodyChunks(size, seed)) hash.update(chunk);
  digest = hash.digest("hex");
  digests.set(key, digest);
  return digest;
}
