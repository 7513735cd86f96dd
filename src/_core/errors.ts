/**
 * The one error family: whatever fails (the library, the command line, the browser client or
 * the worker) is an {@link AttachmentError} with a stable `code`, the `stage` that failed and,
 * where the Participant Service or S3 said no, its answer in `upstream`, the same fields the
 * worker's problem documents carry.
 *
 * @module
 */

/**
 * Why an attachment is refused by the rules before anything is sent.
 *
 * @example
 * ```ts
 * import type { AttachmentProblemCode } from "./errors.ts";
 * const code: AttachmentProblemCode = "too_large";
 * ```
 */
export type AttachmentProblemCode =
  | "invalid_name"
  | "empty"
  | "too_large"
  | "unsupported_type";

/**
 * Every stable error code, for programs to branch on. The worker answers with all of them but
 * the last five: `network_error` and `unexpected_response` are a client's that got no problem
 * document back, `usage`, `output_exists` and `output_unwritable` the command line's.
 *
 * @example
 * ```ts
 * import type { AttachmentErrorCode } from "./errors.ts";
 * const worthRetrying = (code: AttachmentErrorCode) =>
 *   code === "throttled" || code === "service_unavailable";
 * ```
 */
export type AttachmentErrorCode =
  // The file, before anything is sent.
  | AttachmentProblemCode
  | "invalid_file"
  // The Participant Service's answers.
  | "access_denied"
  | "throttled"
  | "quota_exceeded"
  | "rejected_by_service"
  | "service_unavailable"
  | "attachment_not_found"
  | "completion_failed"
  // The chat's attachment scanner.
  | "attachment_scanning"
  | "attachment_rejected"
  // S3's part: the bytes going up or coming back.
  | "upload_host_not_allowed"
  | "upload_refused"
  | "upload_failed"
  | "upload_timeout"
  | "download_host_not_allowed"
  | "download_failed"
  | "range_not_satisfiable"
  // The worker's own refusals.
  | "missing_token"
  | "length_required"
  | "invalid_idempotency_key"
  | "idempotency_key_reused"
  | "invalid_query"
  | "not_found"
  | "too_many_requests"
  | "rate_limited"
  | "client_disconnected"
  | "misconfigured"
  | "internal_error"
  // A client of the worker that got no problem document.
  | "network_error"
  | "unexpected_response"
  // The command line's.
  | "usage"
  | "output_exists"
  | "output_unwritable";

/**
 * Where a failure happened: `validate` (nothing was sent), a Participant Service call
 * (`connect`, `start`, `complete`, `list`), a transfer (`upload`, `download`), or the chat's
 * attachment scanner (`scan`).
 *
 * @example
 * ```ts
 * import type { AttachmentStage } from "./errors.ts";
 * const nothingSent = (stage: AttachmentStage) => stage === "validate";
 * ```
 */
export type AttachmentStage =
  | "validate"
  | "connect"
  | "start"
  | "upload"
  | "complete"
  | "download"
  | "list"
  | "scan";

/**
 * The upstream answer behind a failure: the Participant Service's error or S3's.
 *
 * @example
 * ```ts
 * import type { UpstreamFailure } from "./errors.ts";
 * const describe = (u: UpstreamFailure) => `${u.service} ${u.name} (HTTP ${u.status})`;
 * ```
 */
export interface UpstreamFailure {
  /** `participant` (the Participant Service) or `s3`. */
  service: "participant" | "s3";
  /** The error name, such as `AccessDeniedException` or `SignatureDoesNotMatch` (`HTTP 503`
   * where S3 named none). */
  name: string;
  /** The upstream HTTP status, or 0 where no answer came. */
  status: number;
  /** The upstream request id (`X-Amzn-RequestId`, `x-amz-request-id`), where one was sent. */
  requestId?: string;
}

/**
 * The codes worth a retry of the same request: a failure upstream or in the worker, not in the
 * input. They are the codes the worker answers with 429 or a 5xx status, `network_error`, and
 * `attachment_scanning` (the verdict is still to come).
 */
const RETRYABLE: ReadonlySet<AttachmentErrorCode> = new Set<AttachmentErrorCode>([
  "throttled",
  "too_many_requests",
  "rate_limited",
  "attachment_scanning",
  "service_unavailable",
  "completion_failed",
  "upload_host_not_allowed",
  "upload_refused",
  "upload_failed",
  "upload_timeout",
  "download_host_not_allowed",
  "download_failed",
  "misconfigured",
  "internal_error",
  "network_error",
]);

/** What an {@link AttachmentError} carries besides its code, stage and message. */
export interface AttachmentErrorDetails {
  /** The Participant Service's or S3's answer, where one said no. */
  upstream?: UpstreamFailure;
  /** The attachment id, once StartAttachmentUpload gave one (or the one asked for). */
  attachmentId?: string;
  /** Whether a retry may succeed. @default {whether the code is one worth a retry} */
  retryable?: boolean;
  /** What caused it. */
  cause?: unknown;
}

/**
 * A failure, with a stable `code`. Nothing half-done is reported as done: when an upload
 * throws this, the attachment was not completed (unless `stage` is `complete`, and a retry
 * with the same client token finishes it).
 *
 * @example Tell an expired token from other failures
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttachmentError } from "./errors.ts";
 * const error = new AttachmentError("access_denied", "start", "StartAttachmentUpload failed", {
 *   upstream: { service: "participant", name: "AccessDeniedException", status: 403 },
 * });
 * assert.equal(error.upstream?.status, 403);
 * assert.equal(error.retryable, false);
 * ```
 */
export class AttachmentError extends Error {
  /** The stable reason. */
  readonly code: AttachmentErrorCode;
  /** Where it failed. */
  readonly stage: AttachmentStage;
  /** The Participant Service's or S3's answer, where one said no. */
  readonly upstream?: UpstreamFailure;
  /** The attachment id, once StartAttachmentUpload gave one (or the one asked for). */
  readonly attachmentId?: string;
  /** Whether the same request may succeed when tried again. */
  readonly retryable: boolean;

  /**
   * Makes the error; thrown by every function of the project, rarely built by callers.
   *
   * @param code The stable reason.
   * @param stage Where it failed.
   * @param message What went wrong, for people.
   * @param details The upstream answer, the attachment id, whether to retry, the cause.
   */
  constructor(
    code: AttachmentErrorCode,
    stage: AttachmentStage,
    message: string,
    details: AttachmentErrorDetails = {},
  ) {
    super(message, { cause: details.cause });
    this.name = "AttachmentError";
    this.code = code;
    this.stage = stage;
    this.upstream = details.upstream;
    this.attachmentId = details.attachmentId;
    this.retryable = details.retryable ?? RETRYABLE.has(code);
  }
}
