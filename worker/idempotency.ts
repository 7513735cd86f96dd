/**
 * What the worker remembers about recent uploads by their `Idempotency-Key`, so that a retried
 * request finishes the job instead of doing it again: an upload whose bytes S3 already stored,
 * but whose completion failed, is completed without sending the bytes to S3 a second time;
 * an upload already completed is answered as before.
 *
 * The memory is per instance (one Deno process or one Workers isolate) and bounded. A retry
 * that reaches another instance, or comes after the entry was evicted, is still safe: it is a
 * new upload under the same ClientToken, and whatever attachment StartAttachmentUpload gives
 * for it (the same id or a new one), the bytes go to S3 again and only an attachment whose
 * bytes S3 confirmed is completed.
 *
 * @module
 */

import { tokenDigest } from "./token.ts";

/** What is known of one upload. */
export interface RememberedUpload {
  /** The attachment id StartAttachmentUpload gave. */
  attachmentId: string;
  /** Name, type and size of the first request: a retry must match them. */
  fingerprint: string;
  /** `uploaded`: S3 stored the bytes, the completion failed; `completed`: all done. */
  state: "uploaded" | "completed";
}

/** Options of {@link UploadMemory}. */
export interface UploadMemoryOptions {
  /** Entries kept at most; the oldest go first. @default {10000} */
  maxEntries?: number;
  /** How long an entry is kept, in milliseconds. @default {900000} */
  ttlMs?: number;
  /** The clock, for tests. @default {Date.now} */
  now?: () => number;
}

/**
 * A bounded, expiring memory of uploads by token and idempotency key. Keys are stored as
 * SHA-256 digests: the memory never holds a token.
 *
 * @example
 * ```ts
 * import { UploadMemory } from "./idempotency.ts";
 * const memory = new UploadMemory();
 * await memory.remember("token", "key-1", { attachmentId: "a1", fingerprint: "f", state: "uploaded" });
 * console.log((await memory.recall("token", "key-1"))?.state); // "uploaded"
 * ```
 */
export class UploadMemory {
  readonly #entries = new Map<string, { upload: RememberedUpload; expires: number }>();
  readonly #maxEntries: number;
  readonly #ttlMs: number;
  readonly #now: () => number;

  /** @param options Size, lifetime and clock. */
  constructor(options: UploadMemoryOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#ttlMs = options.ttlMs ?? 900_000;
    this.#now = options.now ?? Date.now;
  }

  /** Entries held now. */
  get size(): number {
    return this.#entries.size;
  }

  /**
   * Looks an upload up.
   * @param token The bearer token of the request.
   * @param key Its `Idempotency-Key`.
   * @returns What is known, or `undefined`.
   */
  async recall(token: string, key: string): Promise<RememberedUpload | undefined> {
    const id = await tokenDigest(`${token}\n${key}`);
    const entry = this.#entries.get(id);
    if (!entry) return undefined;
    if (entry.expires <= this.#now()) {
      this.#entries.delete(id);
      return undefined;
    }
    return entry.upload;
  }

  /**
   * Records (or updates) an upload.
   * @param token The bearer token of the request.
   * @param key Its `Idempotency-Key`.
   * @param upload What is known.
   */
  async remember(token: string, key: string, upload: RememberedUpload): Promise<void> {
    const id = await tokenDigest(`${token}\n${key}`);
    const now = this.#now();
    this.#entries.delete(id);
    this.#entries.set(id, { upload, expires: now + this.#ttlMs });
    // Entries sit in the order they were last remembered, which is the order they expire in:
    // drop the expired ones from the front (so that a quiet instance does not hold them until
    // they are looked up), then the oldest beyond the bound.
    for (const [oldest, entry] of this.#entries) {
      if (entry.expires > now && this.#entries.size <= this.#maxEntries) break;
      this.#entries.delete(oldest);
    }
  }
}

/**
 * The fingerprint of an upload request: a retry with the same key must send the same name,
 * type and size.
 *
 * @param name The attachment name.
 * @param contentType The MIME type sent upstream.
 * @param size The size in bytes.
 * @returns A string to compare.
 *
 * @example
 * ```ts
 * import { uploadFingerprint } from "./idempotency.ts";
 * uploadFingerprint("a.pdf", "application/pdf", 3); // '["a.pdf","application/pdf",3]'
 * ```
 */
export function uploadFingerprint(name: string, contentType: string, size: number): string {
  return JSON.stringify([name, contentType, size]);
}
