/**
 * The errors the Participant Service answers with, as values.
 *
 * @module
 */

/**
 * The error shapes the Participant Service declares.
 *
 * @example
 * ```ts
 * import type { ParticipantErrorName } from "./upstream.ts";
 * const tokenProblem: ParticipantErrorName = "AccessDeniedException";
 * ```
 */
export type ParticipantErrorName =
  | "ValidationException"
  | "AccessDeniedException"
  | "ServiceQuotaExceededException"
  | "ConflictException"
  | "ThrottlingException"
  | "InternalServerException";

/**
 * Failures that happen before the service answers.
 *
 * @example
 * ```ts
 * import type { TransportErrorName } from "./upstream.ts";
 * const noAnswer: TransportErrorName = "NetworkError";
 * ```
 */
export type TransportErrorName = "NetworkError" | "TimeoutError";

/**
 * A failed Participant Service call, returned (not thrown) by the client.
 *
 * `name` is the service's error shape (`X-Amzn-ErrorType`), `UnknownError` where the answer
 * names none, or a {@link TransportErrorName} where no answer came.
 *
 * @example
 * ```ts
 * import type { ParticipantServiceError } from "./upstream.ts";
 * function describe(error: ParticipantServiceError): string {
 *   return `${error.name} (HTTP ${error.status})${error.retryable ? ", worth a retry" : ""}`;
 * }
 * ```
 */
export interface ParticipantServiceError {
  /** The error's name, such as `AccessDeniedException`. */
  name: ParticipantErrorName | TransportErrorName | (string & Record<never, never>);
  /** What went wrong, in the service's words. */
  message: string;
  /** The HTTP status, or 0 where no answer came. */
  status: number;
  /** The service's id for the request (`X-Amzn-RequestId`), where it sent one. */
  requestId?: string;
  /** Whether the same call may succeed when tried again (throttling, 5xx, no answer). */
  retryable: boolean;
}

/**
 * Reduces a raw error type to its shape name: `aws.protocols#ValidationException:http://...`
 * becomes `ValidationException`. Where a header was repeated (`A, A`), the first value counts.
 *
 * @param raw The value of `X-Amzn-ErrorType`, a body `code` or a body `__type`.
 * @returns The bare shape name.
 *
 * @example
 * ```ts
 * import { sanitizeErrorName } from "./upstream.ts";
 * sanitizeErrorName("com.amazon#AccessDeniedException:http://internal/"); // "AccessDeniedException"
 * ```
 */
export function sanitizeErrorName(raw: string): string {
  let name = raw.split(",")[0].trim();
  const colon = name.indexOf(":");
  if (colon >= 0) name = name.slice(0, colon);
  const hash = name.lastIndexOf("#");
  if (hash >= 0) name = name.slice(hash + 1);
  return name.trim();
}

/**
 * Tells whether an HTTP status is worth another try: 429 and the 5xx family.
 *
 * @param status An HTTP status code.
 * @returns `true` for 429 and 500–599.
 *
 * @example
 * ```ts
 * import { isRetryableStatus } from "./upstream.ts";
 * isRetryableStatus(503); // true
 * isRetryableStatus(403); // false
 * ```
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || (status >= 500 && status <= 599);
}

/**
 * Builds a {@link ParticipantServiceError} from an error answer: the name from
 * `X-Amzn-ErrorType`, then the body's `code`, then `__type`; the message from `Message` or
 * `message`.
 *
 * @param response The error answer (its body already read).
 * @param body The parsed JSON body, or its text.
 * @returns The error value.
 *
 * @example
 * ```ts
 * import { parseServiceError } from "./upstream.ts";
 * const response = new Response(null, {
 *   status: 403,
 *   headers: { "X-Amzn-ErrorType": "AccessDeniedException" },
 * });
 * parseServiceError(response, { Message: "expired" }).name; // "AccessDeniedException"
 * ```
 */
export function parseServiceError(response: Response, body: unknown): ParticipantServiceError {
  const fields = typeof body === "object" && body !== null ? body as Record<string, unknown> : {};
  const rawName = response.headers.get("x-amzn-errortype") ??
    stringField(fields, "code") ?? stringField(fields, "__type");
  const message = stringField(fields, "Message") ?? stringField(fields, "message") ??
    (typeof body === "string" && body.length > 0 ? body.slice(0, 500) : response.statusText) ??
    "";
  return {
    name: rawName ? sanitizeErrorName(rawName) : "UnknownError",
    message: message || `HTTP ${response.status}`,
    status: response.status,
    requestId: response.headers.get("x-amzn-requestid") ?? undefined,
    retryable: isRetryableStatus(response.status),
  };
}

/**
 * Builds a {@link ParticipantServiceError} for a call that got no answer.
 *
 * @param error What `fetch` threw.
 * @returns A `NetworkError` or `TimeoutError` value, always retryable.
 *
 * @example
 * ```ts
 * import { transportError } from "./upstream.ts";
 * transportError(new TypeError("connection reset")).name; // "NetworkError"
 * ```
 */
export function transportError(error: unknown): ParticipantServiceError {
  const timedOut = error instanceof DOMException && error.name === "TimeoutError";
  return {
    name: timedOut ? "TimeoutError" : "NetworkError",
    message: timedOut
      ? "the Participant Service did not answer in time"
      : `could not reach the Participant Service: ${
        error instanceof Error ? error.message : String(error)
      }`,
    status: 0,
    retryable: true,
  };
}

function stringField(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
