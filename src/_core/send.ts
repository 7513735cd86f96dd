/**
 * The three-step upload at the heart of every way in: the rules, StartAttachmentUpload, the
 * `PUT` of the bytes with `HeadersToInclude`, CompleteAttachmentUpload. Nothing is completed
 * unless S3 confirmed the whole upload.
 *
 * @module
 */

import type { ParticipantCalls } from "./client.ts";
import { AttachmentError } from "./errors.ts";
import { fetchPut, type PutObject } from "./put.ts";
import { isAmazonConnectEndpoint } from "./endpoint.ts";
import { checkAttachment, policyProblems, resolveContentType } from "./rules.ts";
import { lookUpAttachment, type ScanStatus } from "./transcript.ts";
import { participantFailure, s3Failure, serviceFailure } from "./upstream.ts";

/** Options of {@link sendAttachment}. */
export interface SendAttachmentOptions {
  /** The Participant Service client. */
  client: ParticipantCalls;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment name shown in the chat. */
  name: string;
  /**
   * The declared MIME type; missing or generic (`application/octet-stream`), the name's
   * extension tells it.
   */
  contentType?: string;
  /** The exact size in bytes. */
  size: number;
  /** The bytes: exactly `size` of them. */
  body: BodyInit;
  /**
   * The idempotency token for both calls: a retry with the same token never makes a second
   * attachment.
   * @default {crypto.randomUUID()}
   */
  clientToken?: string;
  /**
   * Whether to call CompleteAttachmentUpload after the upload.
   * @default {true}
   */
  complete?: boolean;
  /**
   * The largest size allowed: at most 104,857,600 bytes against Amazon Connect itself, any
   * against another Participant Service. @default {104,857,600 bytes, Amazon Connect's bound}
   */
  maxBytes?: number;
  /**
   * The MIME types and extensions allowed (`application/pdf`, `zip`).
   * @default {any well-formed ones: the instance decides}
   */
  allowedTypes?: ReadonlySet<string> | readonly string[];
  /**
   * Decides whether the pre-signed URL's host may receive the bytes; a URL refused here is
   * never contacted. By default every `https:` URL is allowed.
   */
  isUploadUrlAllowed?: (url: URL) => boolean;
  /** How the bytes are sent. @default {fetchPut} */
  put?: PutObject;
  /** Cancels every step. */
  signal?: AbortSignal;
}

/**
 * A completed (or, with `complete: false`, uploaded) attachment.
 *
 * @example
 * ```ts
 * import type { SentAttachment } from "./send.ts";
 * const summary = (sent: SentAttachment) => `${sent.name} (${sent.size} bytes): ${sent.attachmentId}`;
 * ```
 */
export interface SentAttachment {
  /** The id the service gave the attachment. */
  attachmentId: string;
  /** The name shown in the chat. */
  name: string;
  /** The MIME type sent. */
  contentType: string;
  /** The size in bytes. */
  size: number;
  /** Whether CompleteAttachmentUpload succeeded. */
  completed: boolean;
  /** The idempotency token used, to retry or complete later. */
  clientToken: string;
  /**
   * The chat's attachment scanner's word on it, as the transcript showed it after completion
   * (`APPROVED`, `IN_PROGRESS`; a rejection is an `attachment_rejected` error instead); absent
   * when it was not completed, or the transcript did not say.
   */
  status?: ScanStatus;
}

/**
 * Checks an attachment against the rules (the one check of an upload), starts it (the
 * instance's own limits are StartAttachmentUpload's to apply), uploads its bytes and completes
 * it. S3's answer is checked: a refused or broken upload is an error and
 * no completion is sent.
 *
 * @param options The client, token, file facts and body.
 * @returns The attachment.
 * @throws {AttachmentError} With a stable `code` when any step fails: the rules' own codes
 * (stage `validate`), or the service's refusal (a size or extension the instance does not
 * allow is `too_large` or `unsupported_type`, stage `start`).
 * @throws {TypeError} When `maxBytes` or `allowedTypes` cannot be applied.
 *
 * @example
 * ```ts ignore
 * import { createParticipantClient } from "./client.ts";
 * import { sendAttachment } from "./send.ts";
 * const client = createParticipantClient({ endpoint: "http://127.0.0.1:8788" });
 * const bytes = new TextEncoder().encode("hello");
 * const sent = await sendAttachment({
 *   client, connectionToken, name: "hello.txt", contentType: "text/plain",
 *   size: bytes.length, body: bytes,
 * });
 * console.log(sent.attachmentId);
 * ```
 */
export async function sendAttachment(options: SendAttachmentOptions): Promise<SentAttachment> {
  const { client, connectionToken, name, size, signal } = options;
  const { clientToken = crypto.randomUUID(), complete = true } = options;
  const policy = { maxBytes: options.maxBytes, allowedTypes: options.allowedTypes };
  const [unusable] = policyProblems(policy, isAmazonConnectEndpoint(client.baseUrl));
  if (unusable) throw new TypeError(`${unusable.member} ${unusable.message}`);
  const problem = checkAttachment({ name, contentType: options.contentType, size }, policy);
  if (problem) throw new AttachmentError(problem.code, "validate", problem.message);
  const contentType = resolveContentType(name, options.contentType);

  const started = await client.startAttachmentUpload(connectionToken, {
    AttachmentName: name,
    ContentType: contentType,
    AttachmentSizeInBytes: size,
    ClientToken: clientToken,
  }, { signal });
  if (started.error) throw serviceFailure("StartAttachmentUpload", started.error);
  const attachmentId = started.data.AttachmentId;
  const upload = started.data.UploadMetadata;
  if (!attachmentId || !upload?.Url) {
    throw new AttachmentError(
      "service_unavailable",
      "start",
      "StartAttachmentUpload answered without an attachment id or upload URL",
    );
  }
  await putBytes(options, upload, attachmentId);

  if (complete) {
    await completeUpload({ client, connectionToken, attachmentId, clientToken, signal });
  }
  return { attachmentId, name, contentType, size, completed: complete, clientToken };
}

/** Options of {@link completeUpload}. */
export interface CompleteUploadOptions {
  /** The Participant Service client. */
  client: ParticipantCalls;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment, whose bytes S3 confirmed. */
  attachmentId: string;
  /** The completion's idempotency token. */
  clientToken: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * CompleteAttachmentUpload for an attachment whose bytes S3 confirmed. A ConflictException
 * ("an attachment with that identifier is already being uploaded": an earlier completion, such
 * as one whose answer was lost, may have done the work) is settled by the chat's transcript:
 * an attachment shown there is complete; one not shown is a `completion_failed`.
 *
 * @param options The client, the token, the attachment and the ClientToken.
 * @throws {AttachmentError} When the service does not complete it.
 *
 * @example
 * ```ts ignore
 * import { completeUpload } from "./send.ts";
 * await completeUpload({ client, connectionToken, attachmentId, clientToken });
 * ```
 */
export async function completeUpload(options: CompleteUploadOptions): Promise<void> {
  const { client, connectionToken, attachmentId, clientToken, signal } = options;
  const { error } = await client.completeAttachmentUpload(connectionToken, {
    AttachmentIds: [attachmentId],
    ClientToken: clientToken,
  }, { signal });
  if (!error) return;
  if (error.name !== "ConflictException") {
    throw serviceFailure("CompleteAttachmentUpload", error, attachmentId);
  }
  // The transcript's newest pages (two: the attachment was completed moments ago, if at all,
  // and a worker request stays within its subrequests, see docs/scanning.md).
  const shown = await lookUpAttachment(attachmentId, {
    client,
    connectionToken,
    signal,
    maxPages: 2,
  });
  if (shown) return;
  throw new AttachmentError(
    "completion_failed",
    "complete",
    `CompleteAttachmentUpload failed: ConflictException: ${error.message}; the chat's ` +
      "transcript does not show the attachment",
    { upstream: participantFailure(error), attachmentId },
  );
}

/** The `PUT` to the pre-signed URL, once its host is allowed; returns once S3 confirmed it. */
async function putBytes(
  options: SendAttachmentOptions,
  upload: { Url?: string; UrlExpiry?: string; HeadersToInclude?: Record<string, string> },
  attachmentId: string,
): Promise<void> {
  const { body, size, signal, put = fetchPut } = options;
  const allowed = options.isUploadUrlAllowed ?? ((url: URL) => url.protocol === "https:");
  let url: URL;
  try {
    url = new URL(upload.Url ?? "");
  } catch {
    throw new AttachmentError("upload_host_not_allowed", "upload", "the upload URL is malformed", {
      attachmentId,
    });
  }
  if (!allowed(url)) {
    throw new AttachmentError(
      "upload_host_not_allowed",
      "upload",
      `the service asked for an upload to ${url.host}, which is not an allowed upload host`,
      { attachmentId },
    );
  }
  let stored: Response;
  try {
    const expiresAt = Date.parse(upload.UrlExpiry ?? "");
    stored = await put(url.href, {
      headers: upload.HeadersToInclude ?? {},
      body,
      size,
      signal,
      ...(Number.isNaN(expiresAt) ? {} : { expiresAt }),
    });
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    throw new AttachmentError(
      "upload_failed",
      "upload",
      "the upload to S3 did not finish: the body ended early, or the connection broke",
      { attachmentId, cause: error },
    );
  }
  if (!stored.ok) throw await s3Failure(stored, "upload", attachmentId);
  await stored.body?.cancel();
}
