/**
 * The error the life-cycle helpers throw when the service or S3 says no.
 *
 * @module
 */

import type { ParticipantServiceError } from "../_core/upstream.ts";

/**
 * A helper call ({@link connect}, {@link downloadAttachment}, {@link listAttachments}) that
 * failed: the Participant Service answered with an error, gave no answer, or S3 refused a
 * download.
 *
 * @example Tell an expired token from other failures
 * ```ts
 * import assert from "node:assert/strict";
 * import { ParticipantCallError } from "./call_error.ts";
 * const error = new ParticipantCallError("GetTranscript", "GetTranscript failed", {
 *   upstream: {
 *     name: "AccessDeniedException",
 *     message: "expired",
 *     status: 403,
 *     retryable: false,
 *   },
 * });
 * assert.equal(error.status, 403);
 * ```
 */
export class ParticipantCallError extends Error {
  /** What was being done: an operation name such as `GetAttachment`, or `Download`. */
  readonly operation: string;
  /** The Participant Service's error, where the service answered with one. */
  readonly upstream?: ParticipantServiceError;
  /** The HTTP status of a refused download from S3. */
  readonly status?: number;

  /**
   * Makes the error; thrown by the helpers, rarely built by callers.
   *
   * @param operation What was being done.
   * @param message What went wrong, for people.
   * @param details The service's error or S3's status, and the cause.
   */
  constructor(
    operation: string,
    message: string,
    details: { upstream?: ParticipantServiceError; status?: number; cause?: unknown } = {},
  ) {
    super(message, { cause: details.cause });
    this.name = "ParticipantCallError";
    this.operation = operation;
    this.upstream = details.upstream;
    this.status = details.status ?? details.upstream?.status;
  }
}
