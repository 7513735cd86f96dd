/**
 * Get a file into an Amazon Connect chat from a Deno script, in one call.
 *
 * ```ts ignore
 * import { connect, uploadAttachment } from "https://example.com/connect-attachments/src/mod.ts";
 * const endpoint = "http://127.0.0.1:8788"; // or: region: "us-east-1"
 * const { connectionToken } = await connect({
 *   endpoint,
 *   participantToken: Deno.env.get("CONNECT_PARTICIPANT_TOKEN")!,
 * });
 * const { attachmentId } = await uploadAttachment({ endpoint, connectionToken, file: "report.pdf" });
 * ```
 *
 * Also here: {@link downloadAttachment}, {@link listAttachments}, and the typed
 * Participant Service client ({@link createParticipantClient}) underneath.
 *
 * @module
 */

export { uploadAttachment, type UploadAttachmentOptions } from "./upload.ts";
export type { FileInput } from "./file_input.ts";
export { connect, type ConnectOptions, type ParticipantConnection } from "./connect.ts";
export {
  downloadAttachment,
  type DownloadAttachmentOptions,
  type DownloadedAttachment,
} from "./download.ts";
export {
  listAttachments,
  type ListAttachmentsOptions,
  type ListedAttachment,
} from "./transcript.ts";
export type { ParticipantServiceOptions } from "./service_options.ts";
export type { ProgressListener, TransferProgress } from "./progress.ts";
export { ParticipantCallError } from "./call_error.ts";
export {
  AttachmentError,
  type AttachmentErrorCode,
  type AttachmentStage,
  type S3Failure,
  type SentAttachment,
} from "./send.ts";
export type { AttachmentProblemCode } from "./limits.ts";
export type { PutObject, PutObjectInit } from "./put.ts";
export {
  type CallOptions,
  type CompleteAttachmentUploadInput,
  createParticipantClient,
  type ParticipantClient,
  type ParticipantClientOptions,
  type ParticipantResult,
  type StartAttachmentUploadInput,
} from "./client.ts";
export type { EndpointOptions } from "./endpoint.ts";
export type { RetryInfo, RetryOptions } from "./retry.ts";
export type {
  ParticipantErrorName,
  ParticipantServiceError,
  TransportErrorName,
} from "./errors.ts";
