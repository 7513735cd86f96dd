/**
 * The `Prefer` request header (RFC 7240), for its one preference the worker honours: `wait`,
 * how long the client will wait for the chat's attachment scanner.
 *
 * @module
 */

import { MAX_SCAN_WAIT_SECONDS } from "../src/_core/scan.ts";

/**
 * Reads `wait=N` from a request's `Prefer` headers (`Prefer: wait=10`, among other preferences
 * or over several headers; the first `wait` counts). RFC 7240 has a server ignore what it
 * cannot honour: a `wait` that is not a whole number of seconds is ignored, and one above
 * {@link MAX_SCAN_WAIT_SECONDS} is cut to it.
 *
 * @param headers The request headers.
 * @returns The seconds to wait, or `undefined` when none was asked for.
 *
 * @example
 * ```ts
 * import { preferredWait } from "./prefer.ts";
 * preferredWait(new Headers({ prefer: "respond-async, wait=10" })); // 10
 * preferredWait(new Headers({ prefer: "wait=600" })); // 60
 * ```
 */
export function preferredWait(headers: Headers): number | undefined {
  const wait = /(?:^|,)\s*wait\s*=\s*("?)([^\s,;"]*)\1\s*(?:[,;]|$)/i.exec(
    headers.get("prefer") ?? "",
  );
  return wait && /^\d{1,9}$/.test(wait[2])
    ? Math.min(Number(wait[2]), MAX_SCAN_WAIT_SECONDS)
    : undefined;
}
