/**
 * The attachments of a chat, read from its transcript.
 *
 * @module
 */

import { type ParticipantServiceOptions, resolveClient } from "./service_options.ts";
import { type ScanStatus, transcriptPages } from "../_core/transcript.ts";

/**
 * Options of {@link listAttachments}.
 *
 * @example
 * ```ts
 * import type { ListAttachmentsOptions } from "./transcript.ts";
 * const options: ListAttachmentsOptions = { region: "us-east-1", connectionToken: "…" };
 * ```
 */
export interface ListAttachmentsOptions extends ParticipantServiceOptions {
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** Cancels the walk. */
  signal?: AbortSignal;
  /**
   * The most transcript pages read (100 items each), a guard against endless paging.
   * @default {50}
   */
  maxPages?: number;
}

/**
 * An attachment as the transcript shows it.
 *
 * @example
 * ```ts
 * import type { ListedAttachment } from "./transcript.ts";
 * const shown: ListedAttachment = {
 *   attachmentId: "3f1c…",
 *   name: "report.pdf",
 *   contentType: "application/pdf",
 *   status: "APPROVED",
 * };
 * ```
 */
export interface ListedAttachment {
  /** The attachment's id (for {@link downloadAttachment}). */
  attachmentId: string;
  /** The name shown in the chat. */
  name: string;
  /** The MIME type. */
  contentType: string;
  /** The scan's verdict: `APPROVED`, `REJECTED` or `IN_PROGRESS`. */
  status?: ScanStatus;
  /** When it was sent (ISO-8601). */
  time?: string;
  /** Who sent it: `CUSTOMER`, `AGENT`, ... */
  participantRole?: string;
  /** The sender's display name. */
  displayName?: string;
  /** The id of the transcript item that carries it. */
  itemId?: string;
}

/**
 * Lists the attachments of the participant's chat, oldest first, walking every page of
 * GetTranscript.
 *
 * @param options The ConnectionToken and where the service is.
 * @returns The attachments.
 * @throws {AttachmentError} When the service refuses or cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { listAttachments } from "../mod.ts";
 * const attachments = await listAttachments({
 *   endpoint: "http://127.0.0.1:8788",
 *   connectionToken: Deno.env.get("CONNECT_CONNECTION_TOKEN")!,
 * });
 * for (const a of attachments) console.log(a.attachmentId, a.status, a.name);
 * ```
 */
export async function listAttachments(
  options: ListAttachmentsOptions,
): Promise<ListedAttachment[]> {
  const { connectionToken, signal, maxPages } = options;
  const found = new Map<string, ListedAttachment>();
  const client = resolveClient(options);
  for await (const items of transcriptPages({ client, connectionToken, signal, maxPages })) {
    for (const item of items) {
      for (const attachment of item.Attachments ?? []) {
        if (!attachment.AttachmentId || found.has(attachment.AttachmentId)) continue;
        found.set(attachment.AttachmentId, {
          attachmentId: attachment.AttachmentId,
          name: attachment.AttachmentName ?? "",
          contentType: attachment.ContentType ?? "",
          status: attachment.Status,
          time: item.AbsoluteTime,
          participantRole: item.ParticipantRole,
          displayName: item.DisplayName,
          itemId: item.Id,
        });
      }
    }
  }
  return [...found.values()].sort((a, b) => (a.time ?? "").localeCompare(b.time ?? ""));
}
