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
export const PROBLEM_STATUS: Readonly<Record<ProblemCode, number>> = {
  invalid_name: 400,
  invalid_file: 400,
  empty: 400,
  invalid_idempotency_key: 400,
  invalid_query: 400,
  rejected_by_service: 400,
  missing_token: 401,
  access_denied: 403,
  attachment_not_found: 404,
  attachment_scanning: 409,
  not_found: 404,
  quota_exceeded: 409,
  length_required: 411,
  idempotency_key_reused: 422,
  attachment_rejected: 422,
  too_large: 413,
  unsupported_type: 415,
  range_not_satisfiable: 416,
  throttled: 429,
  too_many_requests: 429,
  rate_limited: 429,
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
};

/**
 * The title (RFC 9457 `title`, the same for every occurrence of a problem type) of a code: the
 * code in words, such as `Attachment not found`. The detail says what happened this time.
 *
 * @param code The code.
 * @returns The title.
 *
 * @example
 * ```ts
 * import { problemTitle } from "./problem.ts";
 * problemTitle("attachment_not_found"); // "Attachment not found"
 * ```
 */
export function problemTitle(code: ProblemCode): string {
  return code[0].toUpperCase() + code.slice(1).replaceAll("_", " ");
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

/** What `Retry-After` says when the Participant Service throttles, in seconds. */
export const THROTTLED_RETRY_AFTER_SECONDS = 1;

/** What `Retry-After` says while the chat's scanner has not decided, in seconds. */
export const SCANNING_RETRY_AFTER_SECONDS = 2;

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
    title: problemTitle(code),
    status,
    detail: redactSecrets(error.message),
    code,
    // Members left undefined are left out of the JSON.
    attachmentId: error.attachmentId || undefined,
    upstream: error.upstream,
  };
  const answer = new Headers(headers);
  answer.set("content-type", "application/problem+json");
  answer.set("cache-control", "no-store");
  if (code === "throttled" && !answer.has("retry-after")) {
    answer.set("retry-after", String(THROTTLED_RETRY_AFTER_SECONDS));
  }
  if (code === "attachment_scanning") {
    answer.set("retry-after", String(SCANNING_RETRY_AFTER_SECONDS));
  }
  if (code === "missing_token") {
    answer.set("www-authenticate", 'Bearer realm="connect-attachments"');
  }
  return new Response(JSON.stringify(problem), { status, headers: answer });
}
