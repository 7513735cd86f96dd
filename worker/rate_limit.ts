/**
 * A per-token rate limit that instances share: how many requests one token may make in a
 * period, counted outside any one instance (on Cloudflare, by the Workers rate-limiting
 * binding, per Cloudflare location). It sits in front of the per-instance concurrency limit
 * (`concurrency.ts`); the runtime's edge hands the app a {@link RateLimiter}, or none (under
 * Deno, where one process holds every request, the concurrency limit is the limit).
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { describeError } from "./redact.ts";
import { bearerToken, tokenDigest } from "./token.ts";

/**
 * Counts requests by key against a limit the instances share.
 *
 * @example
 * ```ts
 * import type { RateLimiter } from "./rate_limit.ts";
 * let count = 0;
 * const fiveInAll: RateLimiter = { limit: () => Promise.resolve(++count <= 5), retryAfterSeconds: 10 };
 * ```
 */
export interface RateLimiter {
  /**
   * Counts one request under `key`.
   * @param key A SHA-256 digest of the token (the limiter never sees a token).
   * @returns `false` when the key is over its limit.
   */
  limit(key: string): Promise<boolean>;
  /** The `Retry-After` of a refusal, in seconds: the limiter's period. */
  readonly retryAfterSeconds: number;
}

/**
 * The middleware: every request with a usable token counts against its token's limit; one
 * over it gets `refuse`'s answer at once, before its body is read. Requests without a token
 * pass (the routes refuse them). A limiter that fails lets the request through: the
 * per-instance limit still holds, and an outage of the counter never stops uploads.
 *
 * @param limiter The shared counter.
 * @param refuse Builds the refusal (the app's problem with code `rate_limited`).
 * @returns The Hono middleware.
 *
 * @example
 * ```ts ignore
 * app.put("/attachments/:name", rateLimit(limiter, (c, s) => c.text("slow down", 429)), handler);
 * ```
 */
export function rateLimit(
  limiter: RateLimiter,
  refuse: (c: Context, retryAfterSeconds: number) => Response,
): MiddlewareHandler {
  return async (c, next) => {
    const token = bearerToken(c.req.raw.headers);
    if (token !== undefined) {
      let allowed = true;
      try {
        allowed = await limiter.limit(await tokenDigest(token));
      } catch (error) {
        console.error("rate limiter failed:", describeError(error));
      }
      if (!allowed) {
        c.res = refuse(c, limiter.retryAfterSeconds);
        return;
      }
    }
    await next();
  };
}
