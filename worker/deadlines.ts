/**
 * Deadlines for the upload to S3: the `PUT` must finish within a time budget and before its
 * pre-signed URL expires, so that a dead S3 peer or a client trickling its body never holds a
 * request (and its connections) open for ever.
 *
 * @module
 */

import { fetchPut, type PutObject } from "../src/_core/put.ts";

/** Options of {@link deadlinePut}. */
export interface PutDeadlineOptions {
  /**
   * The most one upload may take, in milliseconds.
   * @default {120000}
   */
  timeoutMs?: number;
  /** The `PUT` to wrap. @default {fetchPut} */
  put?: PutObject;
}

/**
 * Thrown by a {@link deadlinePut} upload that ran out of time; sendAttachment passes it on as
 * the `cause` of its `upload_failed` error.
 */
export class UploadDeadlineError extends Error {
  /** `budget`: the time budget ran out; `url_expired`: the pre-signed URL expired. */
  readonly reason: "budget" | "url_expired";

  /**
   * @param reason Which deadline passed.
   * @param ms The time the upload was given, in milliseconds.
   */
  constructor(reason: "budget" | "url_expired", ms: number) {
    super(
      reason === "url_expired"
        ? `the upload did not finish before its pre-signed URL expired (${Math.round(ms)} ms)`
        : `the upload did not finish within ${Math.round(ms)} ms`,
    );
    this.name = "UploadDeadlineError";
    this.reason = reason;
  }
}

/**
 * Wraps a {@link PutObject} so that every upload is abandoned (its connection closed, its
 * body cancelled) once its time budget is spent or its pre-signed URL expires (the
 * `expiresAt` it is given, StartAttachmentUpload's `UrlExpiry`), whichever comes first. The upload then fails with an {@link UploadDeadlineError}, and, since S3 did
 * not confirm it, no completion follows.
 *
 * @param options The budget and the `PUT` to wrap.
 * @returns The wrapped `PUT`.
 *
 * @example
 * ```ts ignore
 * import { sendAttachment } from "../src/_core/send.ts";
 * import { deadlinePut } from "./deadlines.ts";
 * await sendAttachment({ ...upload, put: deadlinePut({ timeoutMs: 60_000 }) });
 * ```
 */
export function deadlinePut(options: PutDeadlineOptions = {}): PutObject {
  const { timeoutMs = 120_000, put = fetchPut } = options;
  return async (url, init) => {
    let budget = timeoutMs;
    let reason: UploadDeadlineError["reason"] = "budget";
    const { expiresAt } = init;
    if (expiresAt !== undefined && expiresAt - Date.now() < budget) {
      budget = Math.max(0, expiresAt - Date.now());
      reason = "url_expired";
    }
    const timer = new AbortController();
    const timeout = setTimeout(
      () => timer.abort(new UploadDeadlineError(reason, budget)),
      budget,
    );
    const signal = init.signal ? AbortSignal.any([init.signal, timer.signal]) : timer.signal;
    try {
      return await put(url, { ...init, signal });
    } catch (error) {
      if (timer.signal.aborted && !init.signal?.aborted) throw timer.signal.reason;
      throw error;
    } finally {
      clearTimeout(timeout);
    }
  };
}

/**
 * Tells whether an upload error came from a {@link deadlinePut} deadline (directly or as the
 * `cause` of an `AttachmentError`).
 *
 * @param error What was thrown.
 * @returns The deadline error, or `undefined`.
 *
 * @example
 * ```ts ignore
 * import { deadlineOf } from "./deadlines.ts";
 * if (deadlineOf(error)) return problem(504, "upload_timeout");
 * ```
 */
export function deadlineOf(error: unknown): UploadDeadlineError | undefined {
  for (let e = error, depth = 0; e && depth < 5; depth++) {
    if (e instanceof UploadDeadlineError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
