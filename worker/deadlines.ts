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
  /**
   * Also end the upload when its pre-signed URL expires (`X-Amz-Date` + `X-Amz-Expires`), plus
   * this grace, in milliseconds; `false` ignores the expiry.
   * @default {0}
   */
  expiryGraceMs?: number | false;
  /** The `PUT` to wrap. @default {fetchPut} */
  put?: PutObject;
  /** The clock, for tests. @default {Date.now} */
  now?: () => number;
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
 * When a SigV4 pre-signed URL stops working: `X-Amz-Date` plus `X-Amz-Expires` seconds.
 *
 * @param url The pre-signed URL.
 * @returns The expiry in epoch milliseconds, or `undefined` when the URL does not say.
 *
 * @example
 * ```ts
 * import { presignedUrlExpiry } from "./deadlines.ts";
 * const url = new URL("https://b.s3.amazonaws.com/k?X-Amz-Date=20260101T000000Z&X-Amz-Expires=60");
 * console.log(new Date(presignedUrlExpiry(url)!).toISOString()); // 2026-01-01T00:01:00.000Z
 * ```
 */
export function presignedUrlExpiry(url: URL): number | undefined {
  const date = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/.exec(
    url.searchParams.get("X-Amz-Date") ?? "",
  );
  const expires = Number(url.searchParams.get("X-Amz-Expires") ?? NaN);
  if (!date || !Number.isFinite(expires)) return undefined;
  const [, y, mo, d, h, mi, s] = date.map(Number);
  return Date.UTC(y, mo - 1, d, h, mi, s) + expires * 1000;
}

/**
 * Wraps a {@link PutObject} so that every upload is abandoned (its connection closed, its
 * body cancelled) once its time budget is spent or its pre-signed URL expires, whichever
 * comes first. The upload then fails with an {@link UploadDeadlineError}, and, since S3 did
 * not confirm it, no completion follows.
 *
 * @param options The budget, the expiry grace and the `PUT` to wrap.
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
  const { timeoutMs = 120_000, expiryGraceMs = 0, put = fetchPut, now = Date.now } = options;
  return async (url, init) => {
    let budget = timeoutMs;
    let reason: UploadDeadlineError["reason"] = "budget";
    const expiry = expiryGraceMs === false ? undefined : presignedUrlExpiry(new URL(url));
    if (expiry !== undefined && expiry + (expiryGraceMs || 0) - now() < budget) {
      budget = Math.max(0, expiry + (expiryGraceMs || 0) - now());
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
