/**
 * The worker's upload, hardened: every `PUT` to S3 has a deadline, the client going away
 * cancels the upstream work, and a retried request (same token, same `Idempotency-Key`)
 * finishes what the first one started instead of starting over.
 *
 * @module
 */

import { AttachmentError } from "../src/_core/errors.ts";
import {
  completeUpload,
  sendAttachment,
  type SendAttachmentOptions,
  type SentAttachment,
} from "../src/_core/send.ts";
import { deadlinePut, UploadDeadlineError } from "./deadlines.ts";
import { type RememberedUpload, uploadFingerprint, type UploadMemory } from "./idempotency.ts";

/** How uploads are guarded. */
export interface UploadGuard {
  /**
   * The most one `PUT` to S3 may take, in milliseconds (the URL's expiry also ends it); also
   * the most a replay may spend reading the request body it does not need.
   */
  uploadTimeoutMs: number;
  /** What is remembered of recent uploads by idempotency key; none: nothing is. */
  memory?: UploadMemory;
}

/**
 * Sends an attachment as {@link sendAttachment} does, with the guard's deadline on the `PUT`
 * and the request's `signal`. With an idempotency key (`clientToken`) and a memory:
 *
 * - an upload this instance already completed is answered again without any upstream call;
 * - an upload whose bytes S3 stored but whose completion failed is finished by completing
 *   that very attachment (CompleteAttachmentUpload with the same ClientToken), without sending
 *   the bytes to S3 again. No StartAttachmentUpload is made: whatever id the service would
 *   give for the repeated ClientToken (the same, or a new one without bytes), only the
 *   attachment whose bytes S3 confirmed is ever completed;
 *
 * the body is then read and dropped (within the guard's deadline), so that the client's
 * request ends normally. A key already used for another file (another name, type or size) is
 * refused (`idempotency_key_reused`), never answered with the other attachment.
 *
 * @param options What {@link sendAttachment} takes, the type resolved; `body` should be the
 * request body.
 * @param guard The deadline and the memory.
 * @returns The attachment.
 * @throws {AttachmentError} As {@link sendAttachment}, its `cause` telling a deadline
 * (`UploadDeadlineError`) from other failures; `idempotency_key_reused` when the key belongs to
 * another file; `client_disconnected` when a replay's body breaks off.
 * @throws {UploadDeadlineError} When a replay's body does not end within the deadline.
 *
 * @example
 * ```ts ignore
 * import { UploadMemory } from "./idempotency.ts";
 * import { resilientSend } from "./resilient_send.ts";
 * const guard = { uploadTimeoutMs: 120_000, memory: new UploadMemory() };
 * const sent = await resilientSend({ client, connectionToken, name, contentType, size, body,
 *   clientToken: request.headers.get("idempotency-key") ?? undefined, signal: request.signal }, guard);
 * ```
 */
export async function resilientSend(
  options: SendAttachmentOptions & { contentType: string },
  guard: UploadGuard,
): Promise<SentAttachment> {
  const { memory } = guard;
  const key = options.clientToken;
  const fingerprint = uploadFingerprint(options.name, options.contentType, options.size);
  const remember = key && memory
    ? (upload: RememberedUpload) => memory.remember(options.connectionToken, key, upload)
    : undefined;
  const known = key && memory ? await memory.recall(options.connectionToken, key) : undefined;
  if (!known) return await sendAndRemember(options, guard, fingerprint, remember);
  if (known.fingerprint !== fingerprint) {
    throw new AttachmentError(
      "idempotency_key_reused",
      "validate",
      "this Idempotency-Key was used for another file (name, type or size); use a new key",
    );
  }
  // The bytes are not needed again: read and drop them, so that the request ends normally.
  await drain(options.body, guard.uploadTimeoutMs, options.signal);
  const completed = known.state === "completed" || options.complete !== false;
  if (known.state === "uploaded" && completed) {
    // Stored but not completed: complete the attachment whose bytes S3 confirmed.
    await completeUpload({
      client: options.client,
      connectionToken: options.connectionToken,
      attachmentId: known.attachmentId,
      clientToken: key!,
      signal: options.signal,
    });
    await remember!({ ...known, state: "completed" });
  }
  return {
    attachmentId: known.attachmentId,
    name: options.name,
    contentType: options.contentType,
    size: options.size,
    completed,
    clientToken: key!,
  };
}

/**
 * A first upload under its key: sent with the deadline on its `PUT`, and remembered as
 * completed, or as uploaded when S3 stored the bytes but the completion failed.
 */
async function sendAndRemember(
  options: SendAttachmentOptions,
  guard: UploadGuard,
  fingerprint: string,
  remember?: (upload: RememberedUpload) => Promise<void>,
): Promise<SentAttachment> {
  const put = deadlinePut({ timeoutMs: guard.uploadTimeoutMs, put: options.put });
  try {
    const sent = await sendAttachment({ ...options, put });
    await remember?.({
      attachmentId: sent.attachmentId,
      fingerprint,
      state: sent.completed ? "completed" : "uploaded",
    });
    return sent;
  } catch (error) {
    if (error instanceof AttachmentError && error.stage === "complete" && error.attachmentId) {
      await remember?.({ attachmentId: error.attachmentId, fingerprint, state: "uploaded" });
    }
    throw error;
  }
}

/**
 * Reads a body to its end and drops it (a body that is not a stream needs nothing), within
 * `timeoutMs`: a body that does not end in time fails with {@link UploadDeadlineError}, one
 * that breaks off or whose client goes away with `client_disconnected`.
 */
async function drain(body: BodyInit, timeoutMs: number, signal?: AbortSignal): Promise<void> {
  if (!(body instanceof ReadableStream)) return;
  const timeout = AbortSignal.timeout(timeoutMs);
  const stop = signal ? AbortSignal.any([signal, timeout]) : timeout;
  // A pending read is not ended by every runtime when the body is cancelled (Deno's stays
  // pending): the deadline and the client's going away are raced against the pipe instead.
  const stopped = new Promise<never>((_, reject) =>
    stop.addEventListener("abort", () => reject(stop.reason), { once: true })
  );
  const piped = body.pipeTo(new WritableStream(), { signal: stop });
  // Whichever loses the race settles later, unheard.
  piped.catch(() => {});
  stopped.catch(() => {});
  try {
    await Promise.race([piped, stopped]);
  } catch (error) {
    if (timeout.aborted) throw new UploadDeadlineError("budget", timeoutMs);
    throw bodyBrokeOff(signal?.aborted ? signal.reason : error);
  }
}

/** A request body that broke off: the client went away (or sent fewer bytes than declared). */
function bodyBrokeOff(cause: unknown): AttachmentError {
  return new AttachmentError(
    "client_disconnected",
    "upload",
    "the client closed the connection mid-upload",
    { cause },
  );
}
