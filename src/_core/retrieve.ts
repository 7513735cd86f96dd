/**
 * Reading an attachment back, in the two steps the library and the worker share: GetAttachment
 * for a short-lived URL, then a `GET` of that URL, whose answer is S3's bytes or an
 * {@link AttachmentError}.
 *
 * @module
 */

import type { ParticipantCalls } from "./client.ts";
import { AttachmentError } from "./errors.ts";
import { scanProblem } from "./scan.ts";
import { lookUpAttachment } from "./transcript.ts";
import { s3Failure, serviceFailure } from "./upstream.ts";

/** Options of {@link locateAttachment}. */
export interface LocateOptions {
  /** The Participant Service client. */
  client: ParticipantCalls;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment to fetch. */
  attachmentId: string;
  /** Decides whether the pre-signed URL may be fetched; a refused URL is never contacted. */
  isDownloadUrlAllowed: (url: URL) => boolean;
  /** How long the URL stays valid, 5–300 seconds. @default {the service's default} */
  urlExpiryInSeconds?: number;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/** Where an attachment's bytes are, as GetAttachment said. */
export interface AttachmentLocation {
  /** The pre-signed URL, allowed by the rule given. */
  url: URL;
  /** The size the service declared, if it did. */
  size?: number;
}

/**
 * Asks GetAttachment where an attachment's bytes are, and checks the URL against the rule.
 *
 * @param options The client, token, attachment and URL rule.
 * @returns The URL and the declared size.
 * @throws {AttachmentError} When the service refuses (`access_denied`, ...); when the file is
 * not one to fetch: still being scanned (`attachment_scanning`), rejected by the scanner
 * (`attachment_rejected`) or not in the chat (`attachment_not_found`), told apart by the
 * chat's transcript; when it answers without a URL (`service_unavailable`), or points at a
 * host the rule refuses (`download_host_not_allowed`).
 *
 * @example
 * ```ts ignore
 * import { locateAttachment } from "./retrieve.ts";
 * const { url } = await locateAttachment({
 *   client, connectionToken, attachmentId, isDownloadUrlAllowed: (u) => u.protocol === "https:",
 * });
 * ```
 */
export async function locateAttachment(options: LocateOptions): Promise<AttachmentLocation> {
  const { client, connectionToken, attachmentId, urlExpiryInSeconds, signal } = options;
  const { data, error } = await client.getAttachment(connectionToken, {
    AttachmentId: attachmentId,
    UrlExpiryInSeconds: urlExpiryInSeconds,
  }, { signal });
  if (error) {
    const failure = serviceFailure("GetAttachment", error, attachmentId);
    if (failure.code !== "attachment_not_found") throw failure;
    // GetAttachment refuses a file that is not (yet) approved as it refuses an unknown id: the
    // transcript's scan status tells them apart.
    const shown = await lookUpAttachment(attachmentId, {
      client,
      connectionToken,
      signal,
      maxPages: 5,
    });
    throw scanProblem(shown?.Status, attachmentId) ?? failure;
  }
  let url: URL;
  try {
    url = new URL(data.Url ?? "");
  } catch {
    throw new AttachmentError(
      "service_unavailable",
      "download",
      "GetAttachment answered without a usable URL",
      { attachmentId },
    );
  }
  if (!options.isDownloadUrlAllowed(url)) {
    throw new AttachmentError(
      "download_host_not_allowed",
      "download",
      `the download URL points at ${url.host}, which is not an allowed host`,
      { attachmentId },
    );
  }
  return { url, size: data.AttachmentSizeInBytes };
}

/**
 * Fetches a pre-signed URL, redirects not followed (one would lead to a host the URL rule
 * never saw), and hands back S3's answer when its status is one of `accepted`.
 *
 * @param url The pre-signed URL.
 * @param init Request headers (such as `Range`), the signal, and the statuses that are answers.
 * @returns S3's answer, its body unread.
 * @throws {AttachmentError} `download_failed` when S3 cannot be reached or answers with another
 * status (its error code and request id as `upstream`).
 * @throws The signal's reason, when it aborts the request.
 *
 * @example
 * ```ts ignore
 * import { getStoredObject } from "./retrieve.ts";
 * const answer = await getStoredObject(url, { headers: { range: "bytes=0-99" }, accepted: [206] });
 * ```
 */
export async function getStoredObject(
  url: URL,
  init: { headers?: HeadersInit; signal?: AbortSignal; accepted?: readonly number[] } = {},
): Promise<Response> {
  const { headers, signal, accepted = [200] } = init;
  let answer: Response;
  try {
    answer = await fetch(url, { headers, signal, redirect: "manual" });
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    throw new AttachmentError("download_failed", "download", "S3 could not be reached", {
      cause: error,
    });
  }
  if (!accepted.includes(answer.status)) throw await s3Failure(answer, "download");
  return answer;
}
