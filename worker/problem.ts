/**
 * The worker's errors as `application/problem+json` (RFC 9457): every answer is an
 * {@link AttachmentError} of the project's one error family, written out with the HTTP status
 * and title of its code.
 *
 * @module
 */

import type { components } from "../generated/worker.ts";
import type { AttachmentError, AttachmentErrorCode, UpstreamFailure } from "../src/_core/errors.ts";
import { redactSecrets } from "./redact.ts";

/** Every `code` the worker answers with: the family's, but those of clients and the CLI. */
export type ProblemCode = Exclude<
  AttachmentErrorCode,
  "network_error" | "unexpected_response" | "usage" | "output_exists" | "output_unwritable"
>;

// The codes above and those `worker/openapi.yaml` lists are one and the same set, and the
// family's upstream failure is the spec's.
type Spec = components["schemas"];
const _codesMatchTheSpec: [ProblemCode] extends [Spec["ProblemCode"]]
  ? [Spec["ProblemCode"]] extends [ProblemCode] ? true : never
  : never = true;
const _upstreamMatchesTheSpec: [UpstreamFailure] extends [Spec["UpstreamFailure"]]
  ? [Spec["UpstreamFailure"]] extends [UpstreamFailure] ? true : never
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

/** What `Retry-After` says when the Participant Service throttles, in seconds. */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;

/**
 * Writes an error out as a problem response: the status and title of its code, its message as
 * the detail (secrets cut out), its attachment id and upstream answer.
 *
 * @param error The error; one whose code the worker never answers with is `internal_error`.
 * @param headers Response headers, such as `Retry-After`.
 * @returns The `application/problem+json` response.
 *
 * @example
 * ```ts
 * import { AttachmentError } from "../src/_core/errors.ts";
 * import { problemResponse } from "./problem.ts";
 * const response = problemResponse(
 *   new AttachmentError("missing_token", "validate", "send the ConnectionToken in X-Amz-Bearer"),
 * );
 * console.log(response.status); // 401
 * ```
 */
export function problemResponse(error: AttachmentError, headers?: HeadersInit): Response {
  const code = error.code in PROBLEM_STATUS ? error.code as ProblemCode : "internal_error";
  const status = PROBLEM_STATUS[code];
  const problem: Problem = {
    type: `urn:connect-attachments:problem:${code}`,
    title: TITLES[code],
    status,
    detail: redactSecrets(error.message),
    code,
    ...(error.attachmentId ? { attachmentId: error.attachmentId } : {}),
    ...(error.upstream ? { upstream: error.upstream } : {}),
  };
  const answer = new Headers(headers);
  answer.set("content-type", "application/problem+json");
  answer.set("cache-control", "no-store");
  if (code === "throttled" && !answer.has("retry-after")) {
    answer.set("retry-after", String(THROTTLED_RETRY_AFTER_SECONDS));
  }
  if (code === "missing_token") {
    answer.set("www-authenticate", 'Bearer realm="connect-attachments"');
  }
  return new Response(JSON.stringify(problem), { status, headers: answer });
}
