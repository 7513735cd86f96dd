/**
 * The attachment scanner's verdict, as the chat's transcript shows it: one look, or a wait for
 * it with a bounded number of looks; and the one place that turns a verdict into a problem
 * (`attachment_scanning`, `attachment_rejected`). The worker, the library and the CLI all go
 * through here.
 *
 * @module
 */

import type { ParticipantCalls } from "./client.ts";
import { AttachmentError } from "./errors.ts";
import { sleep } from "./retry.ts";
import { findAttachment, type ScanStatus } from "./transcript.ts";

export type { ScanStatus } from "./transcript.ts";

/** The longest wait for a verdict the worker grants (`Prefer: wait=N`), in seconds. */
export const MAX_SCAN_WAIT_SECONDS = 60;

/** The first pause between looks; each pause doubles, up to {@link LONGEST_PAUSE_MS}. */
const FIRST_PAUSE_MS = 500;
const LONGEST_PAUSE_MS = 8_000;

/**
 * When the looks of a wait happen, in milliseconds from its start: at once, then after pauses
 * that double from 0.5 s to 8 s, and a last look at the deadline. A wait of 60 s makes 12
 * looks (one GetTranscript page each), whatever the scanner does.
 *
 * @param waitMs How long to wait at most; `0` is one look.
 * @returns The times, ascending, the last one `waitMs`.
 *
 * @example
 * ```ts
 * import { lookTimes } from "./scan.ts";
 * lookTimes(10_000); // [0, 500, 1500, 3500, 7500, 10000]
 * ```
 */
export function lookTimes(waitMs: number): number[] {
  const times = [0];
  for (let pause = FIRST_PAUSE_MS, at = pause; at < waitMs; at += pause) {
    times.push(at);
    pause = Math.min(pause * 2, LONGEST_PAUSE_MS);
  }
  if (waitMs > 0) times.push(waitMs);
  return times;
}

/** Options of {@link scanVerdict}. */
export interface ScanVerdictOptions {
  /** The Participant Service client. */
  client: ParticipantCalls;
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The attachment, completed. */
  attachmentId: string;
  /**
   * How long to wait for a verdict (`APPROVED` or `REJECTED`), in milliseconds; `0` looks
   * once.
   * @default {0}
   */
  waitMs?: number;
  /** Cancels the wait; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * How many of the newest transcript items the first look reads (1–100); later looks read
   * 100. A just-completed attachment is among the newest few, and a short page is a cheaper
   * answer in a long chat.
   * @default {100}
   */
  firstLookItems?: number;
}

/**
 * The scanner's verdict on a completed attachment, read from the newest page of the chat's
 * transcript: at once, or as soon as a look shows `APPROVED` or `REJECTED` within `waitMs`
 * (looks at {@link lookTimes}). A look that fails for a reason worth a retry (throttling, 5xx,
 * no answer) counts as a look that saw nothing.
 *
 * @param options The client, the token, the attachment and how long to wait.
 * @returns The last status seen: a verdict, `IN_PROGRESS` when the wait ran out, or
 * `undefined` when the transcript never showed the attachment (or showed it without a
 * status).
 * @throws {AttachmentError} When GetTranscript refuses for good (`access_denied`, ...).
 *
 * @example
 * ```ts ignore
 * import { scanVerdict } from "./scan.ts";
 * const status = await scanVerdict({ client, connectionToken, attachmentId, waitMs: 10_000 });
 * ```
 */
export async function scanVerdict(options: ScanVerdictOptions): Promise<ScanStatus | undefined> {
  const { client, connectionToken, attachmentId, waitMs = 0, signal, firstLookItems } = options;
  const started = Date.now();
  let status: ScanStatus | undefined;
  for (const at of lookTimes(waitMs)) {
    await sleep(at - (Date.now() - started), signal);
    let shown;
    try {
      shown = await findAttachment(attachmentId, {
        client,
        connectionToken,
        signal,
        maxPages: 1,
        // Only the first look comes at 0; later ones read the walk's full page.
        firstPageItems: at ? undefined : firstLookItems,
      });
    } catch (error) {
      if (!(error instanceof AttachmentError) || !error.retryable) throw error;
      continue;
    }
    if (!shown) continue;
    status = shown.Status;
    if (status !== "IN_PROGRESS") return status;
  }
  return status;
}

/** How many of the newest items the first look after a completion reads. */
const JUST_COMPLETED_LOOK_ITEMS = 20;

/**
 * The verdict on an attachment that was just completed, as {@link scanVerdict} gives it, for
 * the answer to its upload: the attachment is in the chat whatever this says, so a transcript
 * that cannot be read leaves the status unsaid (`undefined`) instead of failing the upload.
 * Its first look reads the 20 newest items (the attachment was added a moment before), later
 * looks a full page.
 *
 * @param options The client, the token, the attachment and how long to wait.
 * @returns The last status seen, or `undefined`.
 * @throws The signal's reason, when it aborts.
 *
 * @example
 * ```ts ignore
 * import { completedVerdict } from "./scan.ts";
 * const status = await completedVerdict({ client, connectionToken, attachmentId, waitMs: 0 });
 * ```
 */
export async function completedVerdict(
  options: ScanVerdictOptions,
): Promise<ScanStatus | undefined> {
  try {
    return await scanVerdict({ firstLookItems: JUST_COMPLETED_LOOK_ITEMS, ...options });
  } catch (error) {
    if (options.signal?.aborted || !(error instanceof AttachmentError)) throw error;
    return undefined;
  }
}

/**
 * The problem a scan status makes of a request for the attachment: `attachment_scanning`
 * while the scan runs (worth a retry later), `attachment_rejected` once the scanner refused it
 * (and the file is gone); nothing for other statuses.
 *
 * @param status The status the transcript shows.
 * @param attachmentId The attachment.
 * @returns The error, or `undefined`.
 *
 * @example
 * ```ts
 * import { scanProblem } from "./scan.ts";
 * scanProblem("REJECTED", "a1")?.code; // "attachment_rejected"
 * scanProblem("APPROVED", "a1"); // undefined
 * ```
 */
export function scanProblem(
  status: ScanStatus | undefined,
  attachmentId: string,
): AttachmentError | undefined {
  if (status === "REJECTED") {
    return new AttachmentError(
      "attachment_rejected",
      "scan",
      "the chat's attachment scanner rejected the file and deleted it",
      { attachmentId },
    );
  }
  if (status === "IN_PROGRESS") {
    return new AttachmentError(
      "attachment_scanning",
      "scan",
      "the chat's attachment scanner has not approved the file yet",
      { attachmentId },
    );
  }
  return undefined;
}
