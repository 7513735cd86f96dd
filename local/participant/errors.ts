/**
 * The local service's error answers: the shapes of the Participant Service's and Amazon
 * Connect's models, each with its HTTP status, sent as the real services send them
 * (`X-Amzn-ErrorType` header, `{"Message": "..."}` body).
 *
 * @module
 */

import type { Context } from "hono";

/** An error shape of the Participant Service's or Amazon Connect's model. */
export type ErrorShape =
  | "ValidationException"
  | "AccessDeniedException"
  | "ServiceQuotaExceededException"
  | "ConflictException"
  | "ThrottlingException"
  | "InternalServerException"
  | "InvalidRequestException"
  | "InvalidParameterException"
  | "ResourceNotFoundException"
  | "LimitExceededException"
  | "InternalServiceException";

/** The HTTP status of each shape, from the models' `@httpError` traits. */
const STATUS: Record<ErrorShape, 400 | 402 | 403 | 404 | 409 | 429 | 500> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ServiceQuotaExceededException: 402,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
  InvalidRequestException: 400,
  InvalidParameterException: 400,
  ResourceNotFoundException: 404,
  LimitExceededException: 429,
  InternalServiceException: 500,
};

/**
 * An error answer, thrown inside handlers and sent by the app's error handler.
 *
 * @example
 * ```ts ignore
 * throw new ServiceFault("ValidationException", "AttachmentName is required");
 * ```
 */
export class ServiceFault extends Error {
  /**
   * @param shape The model's error shape.
   * @param message The `Message` of the answer.
   */
  constructor(readonly shape: ErrorShape, message: string) {
    super(message);
  }
}

/**
 * The answer for a token that is unknown, expired or disconnected, or whose chat ended.
 *
 * @returns An AccessDeniedException to throw.
 *
 * @example
 * ```ts ignore
 * if (!participant) throw denied();
 * ```
 */
export function denied(): ServiceFault {
  return new ServiceFault(
    "AccessDeniedException",
    "The token is not valid: it is unknown, expired or disconnected, or the chat has ended",
  );
}

/**
 * Sends an error answer.
 *
 * @param c The request's context.
 * @param shape The error shape.
 * @param message The `Message`.
 * @returns The answer.
 *
 * @example
 * ```ts ignore
 * app.onError((e, c) => fail(c, "InternalServerException", "failed"));
 * ```
 */
export function fail(c: Context, shape: ErrorShape, message: string): Response {
  c.header("X-Amzn-ErrorType", shape);
  return c.json({ Message: message }, STATUS[shape]);
}
