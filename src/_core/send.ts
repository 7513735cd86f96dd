/**
 * The three-step upload at the heart of every way in: StartAttachmentUpload, the `PUT` of the
 * bytes with `HeadersToInclude`, CompleteAttachmentUpload. Nothing is completed unless S3
 * confirmed the whole upload.
 *
 * @module
 */

import type { ParticipantClient } from "./client.ts";
import type { ParticipantServiceError } from "./upstream.ts";
import {
  ALLOWED_CONTENT_TYPES,
  type AttachmentProblemCode,
  checkAttachment,
  DEFAULT_MAX_ATTACHMENT_BYTES,
  mimeEssence,
} from "./limits.ts";
import { fetchPut, isRedirect, type PutObject } from "./put.ts";

/**
 * Why an upload failed; stable, for programs to branch on.
 *
 * @example
 * ```ts
 * import type { AttachmentErrorCode } from "./send.ts";
 * const worthRetrying = (code: AttachmentErrorCode) =>
 *   code === "throttled" || code === "service_unavailable";
 * ```
 */
export type AttachmentErrorCode =
  | AttachmentProblemCode
  | "invalid_file"
  | "access_denied"
  | "throttled"
  | "quota_exceeded"
  | "rejected_by_service"
  | "service_unavailable"
  | "upload_host_not_allowed"
  | "upload_refused"
  | "upload_failed"
  | "completion_failed";

/**
 * S3's answer to a refused or failed `PUT`.
 *
 * @example
 * ```ts
 * import type { S3Failure } from "./send.ts";
 * const describe = (s3: S3Failure) => `${s3.code ?? "HTTP"} ${s3.status} (${s3.requestId ?? "-"})`;
 * ```
 */
export interface S3Failure {
  /** The HTTP status. */
  status: number;
  /** S3's error code (`<Code>`), such as `SignatureDoesNotMatch`. */
  code?: string;
  /** S3's request id (`x-amz-request-id` or `<RequestId>`), where it sent one. */
  requestId?: string;
}

/**
 * Where in the three steps an upload failed.
 *
 * @example
 * ```ts
 * import type { AttachmentStage } from "./send.ts";
 * const nothingSent = (stage: AttachmentStage) => stage === "validate";
 * ```
 */
export type AttachmentStage = "validate" | "start" | "upload" | "complete";

/**
 * An upload that did not complete. Nothing half-done is reported as done: when this is
 * thrown, the attachment was not completed (unless `stage` is `complete` and a retry with
 * the same client token finishes it).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttachmentError } from "./send.ts";
 * const error = new AttachmentError("too_large", "validate", "the file is too large");
 * assert.equal(error.code, "too_large");
 * assert.equal(error.attachmentId, undefined);
 * ```
 */
export class AttachmentError extends Error {
  /** The stable reason. */
  readonly code: AttachmentErrorCode;
  /** The step that failed. */
  readonly stage: AttachmentStage;
  /** The Participant Service's error, where it sent one. */
  readonly upstream?: ParticipantServiceError;
  /** S3's status, error code and request id, where the `PUT` was refused. */
  readonly s3?: S3Failure;
  /** The attachment id, once StartAttachmentUpload gave one. */
  readonly attachmentId?: string;

  /**
   * Makes the error; thrown by the upload functions, rarely built by callers.
   *
   * @param code The stable reason.
   * @param stage The step that failed.
   * @param message What went wrong, for people.
   * @param details The upstream error, S3's answer and the attachment id, where known.
   */
  constructor(
    code: AttachmentErrorCode,
    stage: AttachmentStage,
    message: string,
    details: {
      upstream?: ParticipantServiceError;
      s3?: S3Failure;
      attachmentId?: string;
      cause?: unknown;
    } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = "AttachmentError";
    this.code = code;
    this.stage = stage;
    this.upstream = details.upstream;
    this.s3 = details.s3;
    this.attachmentId = details.attachmentId;
  }
}

/** Options of {@link sendAttachment}. */
export interface SendAttachmentOptions {
  /** The Participant Service client. */
  client: ParticipantClient;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment name shown in the chat. */
  name: string;
  /** The MIME type. */
  contentType: string;
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
  /** The largest size allowed. @default {DEFAULT_MAX_ATTACHMENT_BYTES} */
  maxBytes?: number;
  /** The MIME types allowed. @default {ALLOWED_CONTENT_TYPES} */
  allowedTypes?: ReadonlySet<string>;
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
}

/**
 * Checks an attachment, starts it, uploads its bytes and completes it. S3's answer is
 * checked: a refused or broken upload is an error and no completion is sent.
 *
 * @param options The client, token, file facts and body.
 * @returns The attachment.
 * @throws {AttachmentError} With a stable `code` when any step fails.
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
  const {
    client,
    connectionToken,
    name,
    size,
    body,
    clientToken = crypto.randomUUID(),
    complete = true,
    maxBytes = DEFAULT_MAX_ATTACHMENT_BYTES,
    allowedTypes = ALLOWED_CONTENT_TYPES,
    isUploadUrlAllowed = (url: URL) => url.protocol === "https:",
    put = fetchPut,
    signal,
  } = options;
  const contentType = mimeEssence(options.contentType);
  const problem = checkAttachment({ name, contentType, size, maxBytes, allowedTypes });
  if (problem) throw new AttachmentError(problem.code, "validate", problem.message);

  const started = await client.startAttachmentUpload(connectionToken, {
    AttachmentName: name,
    ContentType: contentType,
    AttachmentSizeInBytes: size,
    ClientToken: clientToken,
  }, { signal });
  if (started.error) throw serviceFailure("start", started.error);
  const attachmentId = started.data.AttachmentId;
  const upload = started.data.UploadMetadata;
  if (!attachmentId || !upload?.Url) {
    throw new AttachmentError(
      "service_unavailable",
      "start",
      "StartAttachmentUpload answered without an attachment id or upload URL",
    );
  }
  let url: URL;
  try {
    url = new URL(upload.Url);
  } catch {
    throw new AttachmentError("upload_host_not_allowed", "upload", "the upload URL is malformed", {
      attachmentId,
    });
  }
  if (!isUploadUrlAllowed(url)) {
    throw new AttachmentError(
      "upload_host_not_allowed",
      "upload",
      `the service asked for an upload to ${url.host}, which is not an allowed upload host`,
      { attachmentId },
    );
  }

  let stored: Response;
  try {
    stored = await put(url.href, { headers: upload.HeadersToInclude ?? {}, body, size, signal });
  } catch (error) {
    if (signal?.aborted) throw signal.reason ?? error;
    throw new AttachmentError(
      "upload_failed",
      "upload",
      "the upload to S3 did not finish: the body ended early, or the connection broke",
      { attachmentId, cause: error },
    );
  }
  if (!stored.ok) {
    const text = await stored.text().catch(() => "");
    const s3Code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    const requestId = stored.headers.get("x-amz-request-id") ??
      /<RequestId>([^<]{1,200})<\/RequestId>/.exec(text)?.[1];
    const refused = stored.status >= 400 && stored.status < 500;
    throw new AttachmentError(
      refused ? "upload_refused" : "upload_failed",
      "upload",
      isRedirect(stored)
        ? `S3 answered the upload with a redirect (HTTP ${stored.status}), not followed`
        : `S3 ${refused ? "refused" : "failed"} the upload: HTTP ${stored.status}${
          s3Code ? ` ${s3Code}` : ""
        }`,
      {
        attachmentId,
        s3: { status: stored.status, code: s3Code, ...(requestId ? { requestId } : {}) },
      },
    );
  }
  await stored.body?.cancel();

  if (complete) {
    const completed = await client.completeAttachmentUpload(connectionToken, {
      AttachmentIds: [attachmentId],
      ClientToken: clientToken,
    }, { signal });
    if (completed.error) throw serviceFailure("complete", completed.error, attachmentId);
  }
  return { attachmentId, name, contentType, size, completed: complete, clientToken };
}

function serviceFailure(
  stage: AttachmentStage,
  error: ParticipantServiceError,
  attachmentId?: string,
): AttachmentError {
  const code: AttachmentErrorCode = error.name === "AccessDeniedException"
    ? "access_denied"
    : error.name === "ThrottlingException"
    ? "throttled"
    : error.name === "ServiceQuotaExceededException"
    ? "quota_exceeded"
    : error.retryable
    ? "service_unavailable"
    : stage === "complete"
    ? "completion_failed"
    : "rejected_by_service";
  return new AttachmentError(
    code,
    stage,
    `${
      stage === "start" ? "StartAttachmentUpload" : "CompleteAttachmentUpload"
    } failed: ${error.name}: ${error.message}`,
    { upstream: error, attachmentId },
  );
}
