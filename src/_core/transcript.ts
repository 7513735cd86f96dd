/**
 * The one reader of a chat's transcript: its attachment items, page by page from the newest
 * (GetTranscript). Listing a chat's files, a scan's verdict and whether a completion took all
 * read the transcript through it.
 *
 * @module
 */

import type { components } from "../../generated/participant.ts";
import type { ParticipantCalls } from "./client.ts";
import { serviceFailure } from "./upstream.ts";

/** @internal A transcript item and an attachment it carries, as the model has them. */
type Item = components["schemas"]["Item"];
type AttachmentItem = components["schemas"]["AttachmentItem"];

/**
 * Where an attachment stands with the chat's attachment scanner, as the service reports it
 * (the model's `ArtifactStatus`).
 *
 * @example
 * ```ts
 * import type { ScanStatus } from "./transcript.ts";
 * const decided = (status: ScanStatus) => status !== "IN_PROGRESS";
 * ```
 */
export type ScanStatus = "APPROVED" | "REJECTED" | "IN_PROGRESS";

// The statuses above and the model's `ArtifactStatus` are one and the same set.
type ArtifactStatus = components["schemas"]["ArtifactStatus"];
const _statusesMatchTheModel: [ScanStatus] extends [ArtifactStatus]
  ? [ArtifactStatus] extends [ScanStatus] ? true : never
  : never = true;

/** Options of {@link transcriptPages} and {@link findAttachment}. */
export interface TranscriptOptions {
  /** The Participant Service client (GetTranscript is all a walk calls). */
  client: Pick<ParticipantCalls, "getTranscript">;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** Cancels the walk. */
  signal?: AbortSignal;
  /**
   * The most pages read: each page is one GetTranscript call, so this bounds the calls (and, in
   * a worker, the subrequests) a walk makes.
   * @default {50}
   */
  maxPages?: number;
  /**
   * How many items the first page asks for (1–100); later pages ask for 100. A small first page
   * suits a lookup of something just added, which sits at the transcript's newest end.
   * @default {100}
   */
  firstPageItems?: number;
}

/**
 * Walks a chat's transcript from its newest item back, one GetTranscript page (100 items; the
 * first one `firstPageItems`) at a time, and yields each page's `ATTACHMENT` items, newest
 * first. It stops after the oldest page, at a page token it has seen before, or after
 * `maxPages`.
 *
 * @param options The client, the token and the page bound.
 * @returns The pages' attachment items.
 * @throws {AttachmentError} When GetTranscript fails (its code from the one service-error
 * mapping, stage `list`).
 *
 * @example
 * ```ts ignore
 * import { transcriptPages } from "./transcript.ts";
 * for await (const items of transcriptPages({ client, connectionToken, maxPages: 2 })) {
 *   for (const item of items) console.log(item.Attachments?.[0]?.Status);
 * }
 * ```
 */
export async function* transcriptPages(options: TranscriptOptions): AsyncGenerator<Item[]> {
  const { client, connectionToken, signal, maxPages = 50, firstPageItems = 100 } = options;
  const seenTokens = new Set<string>();
  let nextToken: string | undefined;
  for (let page = 0; page < maxPages; page++) {
    const { data, error } = await client.getTranscript(connectionToken, {
      MaxResults: page === 0 ? firstPageItems : 100,
      ScanDirection: "BACKWARD",
      SortOrder: "DESCENDING",
      NextToken: nextToken,
    }, { signal });
    if (error) throw serviceFailure("GetTranscript", error);
    yield (data.Transcript ?? []).filter((item) => item.Type === "ATTACHMENT");
    nextToken = data.NextToken;
    if (!nextToken || seenTokens.has(nextToken)) return;
    seenTokens.add(nextToken);
  }
}

/**
 * Looks one attachment up in the transcript, newest pages first, and stops where it is found.
 *
 * @param attachmentId The attachment.
 * @param options The client, the token and the page bound.
 * @returns The attachment as the transcript shows it (its `Status` the scanner's word), or
 * `undefined` when the pages read do not hold it (never completed, or further back).
 * @throws {AttachmentError} When GetTranscript fails.
 *
 * @example
 * ```ts ignore
 * import { findAttachment } from "./transcript.ts";
 * const shown = await findAttachment(attachmentId, { client, connectionToken, maxPages: 1 });
 * console.log(shown?.Status);
 * ```
 */
export async function findAttachment(
  attachmentId: string,
  options: TranscriptOptions,
): Promise<AttachmentItem | undefined> {
  for await (const items of transcriptPages(options)) {
    for (const item of items) {
      const shown = item.Attachments?.find((a) => a.AttachmentId === attachmentId);
      if (shown) return shown;
    }
  }
  return undefined;
}

/**
 * {@link findAttachment} where a lookup is only a second opinion (whether a refused call
 * had in fact taken, say): a transcript that cannot be read counts as one that does not show
 * the attachment. An abort still rejects.
 *
 * @param attachmentId The attachment.
 * @param options The client, the token and the page bound.
 * @returns The attachment as the transcript shows it, or `undefined` when the pages read do
 * not hold it or could not be read.
 * @throws The signal's reason (or the failure it caused), when the signal aborts.
 *
 * @example
 * ```ts ignore
 * import { lookUpAttachment } from "./transcript.ts";
 * const shown = await lookUpAttachment(attachmentId, { client, connectionToken, maxPages: 2 });
 * if (!shown) console.log("not in the chat, as far as can be told");
 * ```
 */
export async function lookUpAttachment(
  attachmentId: string,
  options: TranscriptOptions,
): Promise<AttachmentItem | undefined> {
  try {
    return await findAttachment(attachmentId, options);
  } catch (error) {
    if (options.signal?.aborted) throw error;
    return undefined;
  }
}
