/**
 * Keeps secrets out of what the worker writes: logs, error bodies and metrics. Pre-signed URLs
 * (whose query carries a signature and credentials) and bearer tokens are cut out of any text
 * before it leaves the worker.
 *
 * @module
 */

const PRESIGNED_QUERY = /(\bX-Amz-(?:Signature|Credential|Security-Token)=)[^&\s"'<>)\]]*/gi;
const URL_WITH_QUERY = /\bhttps?:\/\/[^\s"'<>)\]]*\?[^\s"'<>)\]]*/gi;
const BEARER = /\b(Bearer|X-Amz-Bearer)(["']?\s*[:=]?\s*["']?)[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * Returns `text` with every URL's query string, every SigV4 signature or credential, every
 * bearer token, and each of `secrets` replaced by `[redacted]`.
 *
 * @param text Anything about to be logged or sent.
 * @param secrets Exact values to remove too (such as the request's token).
 * @returns The text, safe to write.
 *
 * @example
 * ```ts
 * import { redactSecrets } from "./redact.ts";
 * redactSecrets("PUT https://b.s3.amazonaws.com/k?X-Amz-Signature=abc failed");
 * // "PUT https://b.s3.amazonaws.com/k?[redacted] failed"
 * ```
 */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  for (const secret of secrets) {
    if (secret && secret.length >= 4) out = out.split(secret).join("[redacted]");
  }
  return out
    .replace(URL_WITH_QUERY, (url) => url.slice(0, url.indexOf("?") + 1) + "[redacted]")
    .replace(PRESIGNED_QUERY, "$1[redacted]")
    .replace(BEARER, "$1$2[redacted]");
}

/**
 * The message of an error and of its causes, joined and redacted: for logs that need to say
 * why an upstream call failed without naming its URL or token.
 *
 * @param error What was thrown.
 * @param secrets Exact values to remove too.
 * @returns One line, safe to write.
 *
 * @example
 * ```ts
 * import { describeError } from "./redact.ts";
 * const error = new Error("upload failed", { cause: new TypeError("error sending request for url (http://s3/k?X-Amz-Signature=abc)") });
 * describeError(error); // "upload failed: error sending request for url (http://s3/k?[redacted])"
 * ```
 */
export function describeError(error: unknown, secrets: readonly (string | undefined)[] = []) {
  const parts: string[] = [];
  for (let e = error, depth = 0; e !== undefined && e !== null && depth < 5; depth++) {
    parts.push(e instanceof Error ? e.message : String(e));
    e = e instanceof Error ? e.cause : undefined;
  }
  return redactSecrets(parts.join(": "), secrets);
}
