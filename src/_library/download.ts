/**
 * An attachment's bytes, streamed: GetAttachment, then a `GET` of its pre-signed URL.
 *
 * @module
 */

import { dispositionFilename } from "../_core/disposition.ts";
import { getStoredObject, locateAttachment } from "../_core/retrieve.ts";
import { countedStream, type ProgressListener } from "./progress.ts";
import {
  defaultUrlPolicy,
  type ParticipantServiceOptions,
  resolveClient,
} from "./service_options.ts";

/**
 * Options of {@link downloadAttachment}.
 *
 * @example
 * ```ts
 * import type { DownloadAttachmentOptions } from "./download.ts";
 * const options: DownloadAttachmentOptions = {
 *   region: "us-east-1",
 *   connectionToken: "…",
 *   attachmentId: "…",
 *   onProgress: ({ loaded, total }) => console.log(`${loaded}/${total}`),
 * };
 * ```
 */
export interface DownloadAttachmentOptions extends ParticipantServiceOptions {
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment to fetch. */
  attachmentId: string;
  /** Cancels the call and the transfer. */
  signal?: AbortSignal;
  /** Told as bytes arrive (as the body is read). */
  onProgress?: ProgressListener;
  /**
   * How long the pre-signed URL stays valid, 5–300 seconds.
   * @default {the service's default}
   */
  urlExpiryInSeconds?: number;
  /**
   * Decides whether the pre-signed URL may be fetched; a refused URL is never contacted.
   * @default {https URLs, and loopback http URLs while the service is on loopback http}
   */
  isDownloadUrlAllowed?: (url: URL) => boolean;
}

/**
 * A downloaded attachment whose bytes are still to be read.
 *
 * @example Save the bytes to a file
 * ```ts ignore
 * import type { DownloadedAttachment } from "../mod.ts";
 * async function save(download: DownloadedAttachment, path: string) {
 *   await download.body.pipeTo((await Deno.create(path)).writable);
 * }
 * ```
 */
export interface DownloadedAttachment {
  /** The attachment's id. */
  attachmentId: string;
  /** The size in bytes, as the service declared it. */
  size: number;
  /** The name stored with the bytes (from `Content-Disposition`), if any. */
  name?: string;
  /** The MIME type stored with the bytes, if any. */
  contentType?: string;
  /**
   * The bytes. Read it to the end or cancel it; it fails when it carries more or fewer
   * bytes than `size`.
   */
  body: ReadableStream<Uint8Array>;
}

/**
 * Fetches an attachment: GetAttachment for a short-lived URL, then a `GET` of it whose body
 * is handed over as a stream (nothing is buffered).
 *
 * @param options The ConnectionToken, the attachment id and where the service is.
 * @returns The size, name, type and a stream of the bytes.
 * @throws {AttachmentError} When the service refuses (`attachment_not_found`,
 * `access_denied`, ...), the URL is not allowed (`download_host_not_allowed`) or S3 refuses the
 * download (`download_failed`, with S3's answer in `upstream`).
 *
 * @example
 * ```ts ignore
 * import { downloadAttachment } from "../mod.ts";
 * const download = await downloadAttachment({
 *   endpoint: "http://127.0.0.1:8788",
 *   connectionToken: Deno.env.get("CONNECT_CONNECTION_TOKEN")!,
 *   attachmentId: "…",
 * });
 * const bytes = new Uint8Array(await new Response(download.body).arrayBuffer());
 * ```
 */
export async function downloadAttachment(
  options: DownloadAttachmentOptions,
): Promise<DownloadedAttachment> {
  const { attachmentId, signal, onProgress } = options;
  const client = resolveClient(options);
  const { url, size: declared } = await locateAttachment({
    ...options,
    client,
    isDownloadUrlAllowed: options.isDownloadUrlAllowed ?? defaultUrlPolicy(client.baseUrl),
  });
  const answer = await getStoredObject(url, { signal });
  const length = Number(answer.headers.get("content-length"));
  const size = declared ?? (Number.isSafeInteger(length) ? length : 0);
  return {
    attachmentId,
    size,
    name: dispositionFilename(answer.headers.get("content-disposition")),
    contentType: answer.headers.get("content-type") ?? undefined,
    body: countedStream(answer.body ?? new Blob().stream(), size, onProgress),
  };
}
