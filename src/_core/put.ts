/**
 * The `PUT` of an attachment's bytes to its pre-signed URL. S3 answers a pre-signed request
 * with 2xx or an error, never with a redirect to follow: redirects are not followed, and a
 * redirect is a failure.
 *
 * @module
 */

/**
 * What a {@link PutObject} is given.
 *
 * @example
 * ```ts
 * import type { PutObjectInit } from "./put.ts";
 * const bytes = new TextEncoder().encode("hello");
 * const init: PutObjectInit = {
 *   headers: { "Content-Type": "text/plain" },
 *   body: bytes,
 *   size: bytes.length,
 * };
 * ```
 */
export interface PutObjectInit {
  /** `HeadersToInclude`, to send exactly. */
  headers: Record<string, string>;
  /** The bytes. A stream must carry exactly `size` bytes. */
  body: BodyInit;
  /** The exact size in bytes (`Content-Length`). */
  size: number;
  /** Cancels the upload. */
  signal?: AbortSignal;
  /**
   * When the pre-signed URL stops working (epoch milliseconds), as StartAttachmentUpload's
   * `UrlExpiry` says, where it said.
   */
  expiresAt?: number;
}

/**
 * Sends an attachment's bytes to a pre-signed URL and returns S3's answer. Runtimes differ in
 * how a stream body keeps its `Content-Length` (S3 refuses chunked uploads), so this is the
 * seam where each runtime plugs in what works there.
 *
 * @example
 * ```ts
 * import { fetchPut, type PutObject } from "./put.ts";
 * // A PutObject that logs each upload's size, then sends it with fetch.
 * const loggingPut: PutObject = (url, init) => {
 *   console.log(`PUT ${init.size} bytes`);
 *   return fetchPut(url, init);
 * };
 * ```
 */
export type PutObject = (url: string, init: PutObjectInit) => Promise<Response>;

/**
 * A {@link PutObject} on `fetch`. Right for `Blob`/`File`/bytes bodies everywhere, and for a
 * stream that `fetch` sends with its length: an incoming request body in Deno and workerd,
 * or a workerd `FixedLengthStream`.
 *
 * @param url The pre-signed URL.
 * @param init Headers, body and size.
 * @returns S3's answer.
 *
 * @example
 * ```ts ignore
 * import { fetchPut } from "./put.ts";
 * const response = await fetchPut(url, { headers, body: file, size: file.size });
 * ```
 */
export const fetchPut: PutObject = (url, { headers, body, signal }) =>
  fetch(url, {
    method: "PUT",
    headers,
    body,
    signal,
    // Never followed: the next host was not checked, and its 200 is not S3 storing the bytes.
    redirect: "manual",
    // Required by fetch for stream bodies; ignored for others.
    duplex: "half",
  } as RequestInit);
