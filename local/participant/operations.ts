/**
 * The operations the local service answers, by method and path: the Participant Service's
 * and the few of Amazon Connect's that a chat needs. Faults are armed and requests logged by
 * these names.
 *
 * @module
 */

import type { ErrorShape } from "./errors.ts";

/** An operation and the service whose model it belongs to. */
interface Operation {
  name: string;
  service: "connect" | "participant";
  method: string;
  path: RegExp;
}

const OPERATIONS: readonly Operation[] = [
  { name: "StartChatContact", service: "connect", method: "PUT", path: /^\/contact\/chat$/ },
  {
    name: "UpdateAttachedFilesConfiguration",
    service: "connect",
    method: "POST",
    path: /^\/attached-files-configurations\/[^/]+\/[^/]+$/,
  },
  {
    name: "DescribeAttachedFilesConfiguration",
    service: "connect",
    method: "GET",
    path: /^\/attached-files-configurations\/[^/]+\/[^/]+$/,
  },
  ...([
    ["CreateParticipantConnection", "/participant/connection"],
    ["StartAttachmentUpload", "/participant/start-attachment-upload"],
    ["CompleteAttachmentUpload", "/participant/complete-attachment-upload"],
    ["GetAttachment", "/participant/attachment"],
    ["GetTranscript", "/participant/transcript"],
    ["SendMessage", "/participant/message"],
    ["SendEvent", "/participant/event"],
    ["DisconnectParticipant", "/participant/disconnect"],
  ] as const).map(([name, path]): Operation => ({
    name,
    service: "participant",
    method: "POST",
    path: new RegExp(`^${path}$`),
  })),
];

/**
 * The operation a request calls.
 *
 * @param method The HTTP method.
 * @param path The URL path.
 * @returns Its name, such as `StartAttachmentUpload`, or `undefined`.
 *
 * @example
 * ```ts ignore
 * operationOf("POST", "/participant/attachment"); // "GetAttachment"
 * ```
 */
export function operationOf(method: string, path: string): string | undefined {
  return OPERATIONS.find((o) => o.method === method && o.path.test(path))?.name;
}

function serviceOf(operation: string | undefined): "connect" | "participant" {
  return OPERATIONS.find((o) => o.name === operation)?.service ?? "participant";
}

/**
 * The 500 shape of an operation: Amazon Connect's `InternalServiceException` for its
 * operations, the Participant Service's `InternalServerException` otherwise.
 *
 * @param operation The operation, if known.
 * @returns The shape.
 *
 * @example
 * ```ts ignore
 * internalShape("StartChatContact"); // "InternalServiceException"
 * ```
 */
export function internalShape(operation: string | undefined): ErrorShape {
  return serviceOf(operation) === "connect"
    ? "InternalServiceException"
    : "InternalServerException";
}

/**
 * The 429 shape of an operation: StartChatContact's model throttles with
 * `LimitExceededException`, every other operation with `ThrottlingException`.
 *
 * @param operation The operation, if known.
 * @returns The shape.
 *
 * @example
 * ```ts ignore
 * throttleShape("GetTranscript"); // "ThrottlingException"
 * ```
 */
export function throttleShape(operation: string | undefined): ErrorShape {
  return operation === "StartChatContact" ? "LimitExceededException" : "ThrottlingException";
}
