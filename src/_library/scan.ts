/**
 * Waiting for the chat's attachment scanner, for an attachment completed by any means.
 *
 * @module
 */

import { scanProblem, type ScanStatus, scanVerdict } from "../_core/scan.ts";
import { type ParticipantServiceOptions, resolveClient } from "./service_options.ts";

/**
 * Options of {@link waitForScan}.
 *
 * @example
 * ```ts
 * import type { WaitForScanOptions } from "./scan.ts";
 * const options: WaitForScanOptions = {
 *   region: "us-east-1",
 *   connectionToken: "…",
 *   attachmentId: "…",
 *   timeoutSeconds: 30,
 * };
 * ```
 */
export interface WaitForScanOptions extends ParticipantServiceOptions {
  /** The participant's ConnectionToken. */
  connectionToken: string;
  /** The completed attachment. */
  attachmentId: string;
  /**
   * How long to wait for a verdict, in seconds (the scanner's own timeout is 60 s).
   * @default {60}
   */
  timeoutSeconds?: number;
  /** Cancels the wait. */
  signal?: AbortSignal;
}

/**
 * Waits for the chat's attachment scanner to decide on a completed attachment, watching the
 * chat's transcript with a bounded number of looks (at once, then after pauses from 0.5 s
 * doubling to 8 s, and at the deadline).
 *
 * @param options The token, the attachment, how long to wait and where the service is.
 * @returns `APPROVED`; `IN_PROGRESS` when the time ran out; `undefined` when the transcript
 * never showed the attachment.
 * @throws {AttachmentError} `attachment_rejected` when the scanner rejected the file (it is
 * deleted); the service's refusal when GetTranscript refuses (`access_denied`, ...).
 *
 * @example
 * ```ts ignore
 * import { waitForScan } from "../mod.ts";
 * const status = await waitForScan({
 *   endpoint: "http://127.0.0.1:8788",
 *   connectionToken: Deno.env.get("CONNECT_CONNECTION_TOKEN")!,
 *   attachmentId,
 *   timeoutSeconds: 20,
 * });
 * if (status === "APPROVED") console.log("ready to download");
 * ```
 */
export async function waitForScan(options: WaitForScanOptions): Promise<ScanStatus | undefined> {
  const { connectionToken, attachmentId, timeoutSeconds = 60, signal } = options;
  const status = await scanVerdict({
    client: resolveClient(options),
    connectionToken,
    attachmentId,
    waitMs: timeoutSeconds * 1000,
    signal,
  });
  if (status === "REJECTED") throw scanProblem(status, attachmentId)!;
  return status;
}
