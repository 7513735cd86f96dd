/**
 * A `fetch` that tries again on throttling, 5xx answers and dropped connections.
 *
 * @module
 */

import { isRetryableStatus } from "./upstream.ts";

/**
 * How calls are tried again.
 *
 * @example
 * ```ts
 * import type { RetryOptions } from "./retry.ts";
 * const patient: RetryOptions = {
 *   maxAttempts: 5,
 *   onRetry: ({ attempt, delayMs, status }) =>
 *     console.log(`try ${attempt} got ${status}; again in ${delayMs} ms`),
 * };
 * ```
 */
export interface RetryOptions {
  /**
   * Tries in all, the first included. `1` turns retrying off.
   * @default {3}
   */
  maxAttempts?: number;
  /**
   * The backoff's starting ceiling, doubled after each try.
   * @default {100}
   */
  baseDelayMs?: number;
  /**
   * The most any one pause may last, `Retry-After` included.
   * @default {5000}
   */
  maxDelayMs?: number;
  /**
   * The time budget of one call across all its tries: no new try starts past it.
   * @default {30000}
   */
  deadlineMs?: number;
  /**
   * How long one try may wait for the whole answer (headers and body) before it is abandoned.
   * @default {10000}
   */
  attemptTimeoutMs?: number;
  /** Told before each pause, for logs and metrics. */
  onRetry?: (info: RetryInfo) => void;
  /**
   * Asked before each retry that the rules above allow; `false` hands back the failed try's
   * answer (or error) as it is. For a budget shared across calls, such as the worker's cap on
   * retries for tokens the service never accepted.
   * @default {every allowed retry is made}
   */
  mayRetry?: (request: Request) => boolean | Promise<boolean>;
}

/**
 * What {@link RetryOptions.onRetry} is told.
 *
 * @example
 * ```ts
 * import type { RetryInfo } from "./retry.ts";
 * const log = (info: RetryInfo) => console.log(`try ${info.attempt}: HTTP ${info.status}`);
 * ```
 */
export interface RetryInfo {
  /** The try that failed, from 1. */
  attempt: number;
  /** The pause before the next try. */
  delayMs: number;
  /** The failed try's HTTP status, or 0 where no answer came. */
  status: number;
}

/**
 * The pause before try `attempt + 1`: full jitter under a doubling, capped ceiling, or the
 * server's `Retry-After` (capped) when it sent one.
 *
 * @param attempt The try that failed, from 1.
 * @param options The backoff settings.
 * @param retryAfter The failed answer's `Retry-After` header, if any.
 * @returns The pause in milliseconds.
 *
 * @example
 * ```ts
 * import { backoffDelay } from "./retry.ts";
 * const pause = backoffDelay(3, { baseDelayMs: 100, maxDelayMs: 5000 });
 * console.assert(pause >= 0 && pause <= 400);
 * ```
 */
export function backoffDelay(
  attempt: number,
  options: Pick<RetryOptions, "baseDelayMs" | "maxDelayMs"> = {},
  retryAfter?: string | null,
): number {
  const { baseDelayMs = 100, maxDelayMs = 5000 } = options;
  const seconds = retryAfter ? Number(retryAfter) : NaN;
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, maxDelayMs);
  const ceiling = Math.min(maxDelayMs, baseDelayMs * 2 ** (attempt - 1));
  return Math.floor(Math.random() * ceiling);
}

/**
 * Wraps a `fetch` so that each call is tried again, with the very same request (and so the
 * same idempotency `ClientToken`), after a 429, a 5xx, a dropped connection or a try that
 * timed out. Other answers, 4xx included, come back at once. A caller's abort ends it at once.
 * Each answer is read whole within its try (Participant Service answers are small JSON), so
 * an answer cut off after its headers counts as a dropped connection and is tried again.
 *
 * @param fetchFn The `fetch` to wrap.
 * @param options How to try again.
 * @returns A `fetch` with the same signature.
 *
 * @example
 * ```ts
 * import { retryingFetch } from "./retry.ts";
 * const patientFetch = retryingFetch(fetch, { maxAttempts: 5 });
 * ```
 */
export function retryingFetch(
  fetchFn: typeof fetch,
  options: RetryOptions = {},
): typeof fetch {
  const {
    maxAttempts = 3,
    deadlineMs = 30_000,
    attemptTimeoutMs = 10_000,
    onRetry,
    mayRetry,
  } = options;
  return async (input, init) => {
    const request = new Request(input, init);
    const started = Date.now();
    for (let attempt = 1;; attempt++) {
      const signal = AbortSignal.any([request.signal, AbortSignal.timeout(attemptTimeoutMs)]);
      let response: Response | undefined;
      let failure: unknown;
      try {
        response = await readWhole(await fetchFn(new Request(request.clone(), { signal })));
      } catch (error) {
        if (request.signal.aborted) throw error;
        failure = error;
      }
      const status = response?.status ?? 0;
      const retryable = response === undefined || isRetryableStatus(status);
      const delayMs = backoffDelay(attempt, options, response?.headers.get("retry-after"));
      const outOfTime = Date.now() - started + delayMs >= deadlineMs;
      if (
        !retryable || attempt >= maxAttempts || outOfTime ||
        (mayRetry && !(await mayRetry(request)))
      ) {
        if (response) return response;
        throw failure;
      }
      onRetry?.({ attempt, delayMs, status });
      await sleep(delayMs, request.signal);
    }
  };
}

/** The same answer with its body read into memory, so a broken body fails here. */
async function readWhole(response: Response): Promise<Response> {
  const noBody = response.body === null || [204, 205, 304].includes(response.status);
  const body = noBody ? null : await response.arrayBuffer();
  return new Response(body, {
    status: response.status,
    statusText: response.statusText,
    headers: response.headers,
  });
}

/**
 * Waits `ms` milliseconds (none when `ms` ≤ 0), unless the signal aborts first: the promise
 * then rejects with its reason.
 *
 * @param ms The pause.
 * @param signal Ends the pause early.
 * @returns When the pause is over.
 *
 * @example
 * ```ts
 * import { sleep } from "./retry.ts";
 * await sleep(10, AbortSignal.timeout(1_000));
 * ```
 */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    if (ms <= 0) return resolve();
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
