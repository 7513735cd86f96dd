/**
 * What the upstream services answer when they say no, and the error each answer makes: the
 * Participant Service's errors as values (what the client returns), the one mapping from its
 * error names to codes, and the one reader of S3's error answers.
 *
 * @module
 */

import {
  AttachmentError,
  type AttachmentErrorCode,
  type AttachmentStage,
  type UpstreamFailure,
} from "./errors.ts";

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

/**
 * The calls whose errors become {@link AttachmentError}s: the Participant Service's, and
 * StartChatContact, which the browser client makes against the local stack.
 *
 * @example
 * ```ts
 * import type { ServiceOperation } from "./upstream.ts";
 * const operation: ServiceOperation = "GetAttachment";
 * ```
 */
export type ServiceOperation =
  | "StartChatContact"
  | "CreateParticipantConnection"
  | "StartAttachmentUpload"
  | "CompleteAttachmentUpload"
  | "GetAttachment"
  | "GetTranscript";

/** The stage each call is, and the code of a refusal the service names no better code for. */
const OPERATIONS: Readonly<
  Record<ServiceOperation, { stage: AttachmentStage; refused: AttachmentErrorCode }>
> = {
  StartChatContact: { stage: "connect", refused: "rejected_by_service" },
  CreateParticipantConnection: { stage: "connect", refused: "rejected_by_service" },
  StartAttachmentUpload: { stage: "start", refused: "rejected_by_service" },
  CompleteAttachmentUpload: { stage: "complete", refused: "completion_failed" },
  // The service answers an unknown attachment id with ValidationException.
  GetAttachment: { stage: "download", refused: "attachment_not_found" },
  GetTranscript: { stage: "list", refused: "rejected_by_service" },
};

/** The error names whose code is the same whatever the call. */
const CODE_BY_NAME: Readonly<Record<string, AttachmentErrorCode>> = {
  AccessDeniedException: "access_denied",
  ThrottlingException: "throttled",
  ServiceQuotaExceededException: "quota_exceeded",
};

/**
 * What a ValidationException from StartAttachmentUpload is about, read from its message: the
 * model has no error shape of its own for a file the instance's settings refuse, so the
 * message is all there is. A reading holds where every one of its `all` patterns matches and
 * its `none` pattern does not; the first that holds decides. Any other message (a malformed
 * member, a reused ClientToken) stays `rejected_by_service`. The patterns take the local
 * service's messages ("The attachment is N bytes; this instance accepts at most M bytes",
 * "The extension .png is not allowed ...") and the usual wordings of such refusals, and leave
 * alone the messages about malformed members ("ContentType must be 1 to 255 characters long",
 * "AttachmentSizeInBytes must be a whole number ...", "AttachmentName exceeds 256 characters").
 */
const START_REFUSALS: readonly { code: AttachmentErrorCode; all: RegExp[]; none: RegExp }[] = [
  {
    code: "too_large",
    all: [
      /\b(too (large|big)|larger than|exceed|at most|limit|maximum)/i,
      /\b(size|bytes?|[kmg]i?b|large|big)\b/i,
    ],
    none: /\b(name|characters?|token)\b/i,
  },
  {
    code: "unsupported_type",
    all: [
      /\b(extension|file ?type|content ?type|media ?type|mime ?type)/i,
      /\b(not (allowed|supported|accepted|permitted)|unsupported|disallowed|invalid)\b/i,
    ],
    none: /characters? long/i,
  },
];

/**
 * The one mapping from a Participant Service error to a code: the error's name where it says
 * enough (`AccessDeniedException`, `ThrottlingException`, `ServiceQuotaExceededException`),
 * then `service_unavailable` for a failure worth a retry (5xx, no answer), then, for a
 * ValidationException of StartAttachmentUpload, `too_large` or `unsupported_type` where its
 * message says the instance refuses the size or the extension, then the call's own refusal:
 * `completion_failed` for CompleteAttachmentUpload, `attachment_not_found` for GetAttachment,
 * `rejected_by_service` for the others.
 *
 * @param error The client's error value.
 * @param operation The call that failed.
 * @returns The code.
 *
 * @example
 * ```ts
 * import { serviceErrorCode } from "./upstream.ts";
 * const error = { name: "ValidationException", message: "", status: 400, retryable: false };
 * serviceErrorCode(error, "GetAttachment"); // "attachment_not_found"
 * serviceErrorCode(error, "StartAttachmentUpload"); // "rejected_by_service"
 * const tooLarge = { ...error, message: "The attachment is 62914560 bytes; this instance accepts at most 52428800 bytes" };
 * serviceErrorCode(tooLarge, "StartAttachmentUpload"); // "too_large"
 * ```
 */
export function serviceErrorCode(
  error: ParticipantServiceError,
  operation: ServiceOperation,
): AttachmentErrorCode {
  const byName = CODE_BY_NAME[error.name];
  if (byName) return byName;
  if (error.retryable) return "service_unavailable";
  if (operation === "StartAttachmentUpload" && error.name === "ValidationException") {
    const { message } = error;
    const refusal = START_REFUSALS.find(({ all, none }) =>
      all.every((pattern) => pattern.test(message)) && !none.test(message)
    );
    if (refusal) return refusal.code;
  }
  return OPERATIONS[operation].refused;
}

/**
 * Describes a Participant Service error as an {@link UpstreamFailure}.
 *
 * @param error The client's error value.
 * @returns The upstream failure.
 *
 * @example
 * ```ts
 * import { participantFailure } from "./upstream.ts";
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
 * The error a failed Participant Service call makes: its code from {@link serviceErrorCode},
 * its stage from the call, the service's answer as `upstream`.
 *
 * @param operation The call that failed.
 * @param error The client's error value.
 * @param attachmentId The attachment concerned, where there is one.
 * @returns The error, to throw.
 *
 * @example
 * ```ts
 * import { serviceFailure } from "./upstream.ts";
 * const error = serviceFailure("GetTranscript", {
 *   name: "AccessDeniedException", message: "expired", status: 403, retryable: false,
 * });
 * console.log(error.code, error.message); // access_denied GetTranscript failed: ...
 * ```
 */
export function serviceFailure(
  operation: ServiceOperation,
  error: ParticipantServiceError,
  attachmentId?: string,
): AttachmentError {
  return new AttachmentError(
    serviceErrorCode(error, operation),
    OPERATIONS[operation].stage,
    `${operation} failed: ${error.name}: ${error.message}`,
    { upstream: participantFailure(error), attachmentId },
  );
}

/**
 * Tells whether S3's answer to a pre-signed request is a redirect: a 3xx, or the opaque
 * stand-in (status 0) that browsers give for one under `redirect: "manual"`. Such an answer
 * is a failure, never followed: the next host was not checked, and its 200 is not S3's.
 *
 * @param answer The answer.
 * @returns `true` for a redirect.
 *
 * @example
 * ```ts
 * import { isRedirect } from "./upstream.ts";
 * isRedirect(new Response(null, { status: 307, headers: { location: "https://elsewhere/" } })); // true
 * ```
 */
export function isRedirect(answer: Response): boolean {
  return answer.type === "opaqueredirect" || (answer.status >= 300 && answer.status < 400);
}

/**
 * The error S3's refusal of a pre-signed request makes, read from its answer (whose body it
 * consumes): S3's `<Code>` as the upstream name (`HTTP <status>` where it sent none), its
 * request id from `x-amz-request-id` or `<RequestId>`. An upload refused with a 4xx is
 * `upload_refused`, any other failed upload `upload_failed`; a failed download is
 * `download_failed`.
 *
 * @param answer S3's answer: not 2xx.
 * @param stage `upload` or `download`.
 * @param attachmentId The attachment concerned.
 * @returns The error, to throw.
 *
 * @example
 * ```ts
 * import { s3Failure } from "./upstream.ts";
 * const answer = new Response("<Error><Code>SignatureDoesNotMatch</Code></Error>", { status: 403 });
 * const error = await s3Failure(answer, "upload");
 * console.log(error.code, error.upstream?.name); // upload_refused SignatureDoesNotMatch
 * ```
 */
export async function s3Failure(
  answer: Response,
  stage: "upload" | "download",
  attachmentId?: string,
): Promise<AttachmentError> {
  const text = await answer.text().catch(() => "");
  const code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
  const requestId = answer.headers.get("x-amz-request-id") ??
    /<RequestId>([^<]{1,200})<\/RequestId>/.exec(text)?.[1];
  const { status } = answer;
  const refused = status >= 400 && status < 500;
  return new AttachmentError(
    stage === "download" ? "download_failed" : refused ? "upload_refused" : "upload_failed",
    stage,
    isRedirect(answer)
      ? `S3 answered the ${stage} with a redirect (HTTP ${status}), not followed`
      : `S3 ${refused ? "refused" : "failed"} the ${stage}: HTTP ${status}${
        code ? ` ${code}` : ""
      }`,
    {
      attachmentId,
      upstream: {
        service: "s3",
        name: code ?? `HTTP ${status}`,
        status,
        ...(requestId ? { requestId } : {}),
      },
    },
  );
}

function stringField(fields: Record<string, unknown>, key: string): string | undefined {
  const value = fields[key];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}
