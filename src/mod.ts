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
 * Also here: {@link downloadAttachment}, {@link listAttachments}, {@link waitForScan}, and the typed
 * Participant Service client ({@link createParticipantClient}) underneath. Every function
 * throws one kind of error, {@link AttachmentError}, with a stable `code`; the client returns
 * its errors as values instead.
 *
 * @module
 */

export { uploadAttachment, type UploadAttachmentOptions } from "./_library/upload.ts";
export type { FileInput } from "./_library/file_input.ts";
export { connect, type ConnectOptions, type ParticipantConnection } from "./_library/connect.ts";
export {
  downloadAttachment,
  type DownloadAttachmentOptions,
  type DownloadedAttachment,
} from "./_library/download.ts";
export {
  listAttachments,
  type ListAttachmentsOptions,
  type ListedAttachment,
} from "./_library/transcript.ts";
export { waitForScan, type WaitForScanOptions } from "./_library/scan.ts";
export type { ScanStatus } from "./_core/scan.ts";
export type { ParticipantServiceOptions } from "./_library/service_options.ts";
export type { ProgressListener, TransferProgress } from "./_library/progress.ts";
export {
  AttachmentError,
  type AttachmentErrorCode,
  type AttachmentProblemCode,
  type AttachmentStage,
  type UpstreamFailure,
} from "./_core/errors.ts";
export type { SentAttachment } from "./_core/send.ts";
export type { PutObject, PutObjectInit } from "./_core/put.ts";
export {
  type CallOptions,
  type CompleteAttachmentUploadInput,
  createParticipantClient,
  type ParticipantCalls,
  type ParticipantClient,
  type ParticipantClientOptions,
  type ParticipantResult,
  type StartAttachmentUploadInput,
} from "./_core/client.ts";
export type { EndpointOptions } from "./_core/endpoint.ts";
export type { RetryInfo, RetryOptions } from "./_core/retry.ts";
export type {
  ParticipantErrorName,
  ParticipantServiceError,
  TransportErrorName,
} from "./_core/upstream.ts";
