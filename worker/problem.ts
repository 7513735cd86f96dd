/**
 * The worker's errors as `application/problem+json` (RFC 9457), each with a stable `code`.
 *
 * @module
 */

import type { components } from "../generated/worker.ts";
import type { ParticipantServiceError } from "../src/_core/upstream.ts";
import type { AttachmentError, AttachmentErrorCode } from "../src/_core/send.ts";
import { redactSecrets } from "./redact.ts";

/** Every `code` the worker answers with; stable, for programs to branch on. */
export type ProblemCode =
  | AttachmentErrorCode
  | "missing_token"
  | "length_required"
  | "invalid_idempotency_key"
  | "idempotency_key_reused"
  | "invalid_query"
  | "attachment_not_found"
  | "download_host_not_allowed"
  | "download_failed"
  | "range_not_satisfiable"
  | "not_found"
  | "misconfigured"
  | "internal_error"
  | "upload_timeout"
  | "too_many_requests"
  | "client_disconnected";

// The codes above and those `worker/openapi.yaml` lists are one and the same set.
type SpecCode = components["schemas"]["ProblemCode"];
const _codesMatchTheSpec: [ProblemCode] extends [SpecCode]
  ? [SpecCode] extends [ProblemCode] ? true : never
  : never = true;

/** The HTTP status of each code. */
export const PROBLEM_STATUS: Readonly<Record<ProblemCode, number>> = Object.freeze({
  invalid_name: 400,
  invalid_file: 400,
  empty: 400,
  invalid_idempotency_key: 400,
  invalid_query: 400,
  rejected_by_service: 400,
  missing_token: 401,
  access_denied: 403,
  attachment_not_found: 404,
  not_found: 404,
  quota_exceeded: 409,
  length_required: 411,
  idempotency_key_reused: 422,
  too_large: 413,
  unsupported_type: 415,
  range_not_satisfiable: 416,
  throttled: 429,
  too_many_requests: 429,
  client_disconnected: 499,
  misconfigured: 500,
  internal_error: 500,
  service_unavailable: 502,
  upload_host_not_allowed: 502,
  upload_refused: 502,
  upload_failed: 502,
  completion_failed: 502,
  download_host_not_allowed: 502,
  download_failed: 502,
  upload_timeout: 504,
});

const TITLES: Readonly<Record<ProblemCode, string>> = Object.freeze({
  invalid_name: "The attachment name is not usable",
  invalid_file: "The file cannot be read",
  empty: "The file is empty",
  invalid_idempotency_key: "The Idempotency-Key is not usable",
  idempotency_key_reused: "The Idempotency-Key was used for another file",
  invalid_query: "A query parameter is not usable",
  rejected_by_service: "The Participant Service refused the request",
  missing_token: "No ConnectionToken",
  access_denied: "The Participant Service refused the token",
  attachment_not_found: "No such attachment",
  not_found: "No such resource",
  quota_exceeded: "The chat holds no more attachments",
  length_required: "Content-Length is required",
  too_large: "The file is too large",
  unsupported_type: "The file type is not accepted",
  range_not_satisfiable: "The range is outside the file",
  throttled: "Too many requests",
  misconfigured: "The worker is misconfigured",
  internal_error: "The worker failed",
  service_unavailable: "The Participant Service failed",
  upload_host_not_allowed: "The upload URL points at a host that is not allowed",
  upload_refused: "S3 refused the upload",
  upload_failed: "The upload to S3 failed",
  completion_failed: "The Participant Service did not complete the attachment",
  download_host_not_allowed: "The download URL points at a host that is not allowed",
  download_failed: "The download from S3 failed",
  upload_timeout: "The upload to S3 did not finish in time",
  too_many_requests: "Too many requests for this token at once",
  client_disconnected: "The client went away before the upload ended",
});

/** The upstream answer behind a problem: who failed, its error name and request id. */
export interface UpstreamFailure {
  /** `participant` (the Participant Service) or `s3`. */
  service: "participant" | "s3";
  /** The error name, such as `ThrottlingException` or `SignatureDoesNotMatch`. */
  name: string;
  /** The upstream HTTP status, or 0 where no answer came. */
  status: number;
  /** The upstream request id, where one was sent. */
  requestId?: string;
}

/** A problem details object (RFC 9457) with the worker's extension members. */
export interface Problem {
  /** A URI naming the problem type: `urn:connect-attachments:problem:<code>`. */
  type: string;
  /** A short summary of the problem type. */
  title: string;
  /** The HTTP status. */
  status: number;
  /** What went wrong this time, and how to fix it. */
  detail: string;
  /** The stable machine-readable reason. */
  code: ProblemCode;
  /** The attachment id, where one was made before the failure. */
  attachmentId?: string;
  /** The upstream failure, where there was one. */
  upstream?: UpstreamFailure;
}

/** Extra members and headers of a problem. */
export interface ProblemExtras {
  /** The attachment id, where one was made. */
  attachmentId?: string;
  /** The upstream failure. */
  upstream?: UpstreamFailure;
  /** Response headers, such as `Retry-After`. */
  headers?: Record<string, string>;
}

/** What `Retry-After` says when the Participant Service throttles, in seconds. */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;

/**
 * Builds a problem response.
 *
 * @param code The stable reason; it fixes the status and title.
 * @param detail What went wrong this time (never a token or pre-signed URL).
 * @param extras Attachment id, upstream failure and headers.
 * @returns The `application/problem+json` response.
 *
 * @example
 * ```ts
 * import { problemResponse } from "./problem.ts";
 * const response = problemResponse("missing_token", "send the ConnectionToken in X-Amz-Bearer");
 * console.log(response.status); // 401
 * ```
 */
export function problemResponse(
  code: ProblemCode,
  detail: string,
  extras: ProblemExtras = {},
): Response {
  const status = PROBLEM_STATUS[code];
  const problem: Problem = {
    type: `urn:connect-attachments:problem:${code}`,
    title: TITLES[code],
    status,
    detail: redactSecrets(detail),
    code,
    ...(extras.attachmentId ? { attachmentId: extras.attachmentId } : {}),
    ...(extras.upstream ? { upstream: extras.upstream } : {}),
  };
  const headers = new Headers(extras.headers);
  headers.set("content-type", "application/problem+json");
  headers.set("cache-control", "no-store");
  if (code === "throttled" && !headers.has("retry-after")) {
    headers.set("retry-after", String(THROTTLED_RETRY_AFTER_SECONDS));
  }
  if (code === "missing_token") {
    headers.set("www-authenticate", 'Bearer realm="connect-attachments"');
  }
  return new Response(JSON.stringify(problem), { status, headers });
}

/**
 * Describes a Participant Service error as an {@link UpstreamFailure}.
 *
 * @param error The client's error value.
 * @returns The upstream failure.
 *
 * @example
 * ```ts
 * import { participantFailure } from "./problem.ts";
 * participantFailure({ name: "ThrottlingException", message: "", status: 429, retryable: true });
 * ```
 */
export function participantFailure(error: ParticipantServiceError): UpstreamFailure {
  return {
    service: "participant",
    name: error.name,
    status: error.status,
    ...(error.requestId ? { requestId: error.requestId } : {}),
  };
}

/**
 * Turns a failed upload into its problem response: the code from the error, the upstream
 * Participant Service or S3 answer where there was one.
 *
 * @param error The upload's error.
 * @returns The problem response.
 *
 * @example
 * ```ts ignore
 * import { attachmentProblem } from "./problem.ts";
 * try { await sendAttachment(options); } catch (e) {
 *   if (e instanceof AttachmentError) return attachmentProblem(e);
 * }
 * ```
 */
export function attachmentProblem(error: AttachmentError): Response {
  const upstream: UpstreamFailure | undefined = error.upstream
    ? participantFailure(error.upstream)
    : error.s3
    ? {
      service: "s3",
      name: error.s3.code ?? `HTTP ${error.s3.status}`,
      status: error.s3.status,
      ...(error.s3.requestId ? { requestId: error.s3.requestId } : {}),
    }
    : undefined;
  return problemResponse(error.code, error.message, {
    attachmentId: error.attachmentId,
    upstream,
  });
}
