/**
 * A per-token concurrency limit for the worker's routes: a token may have at most N requests
 * in flight; the next one gets 429 with `Retry-After` at once, before its body is read.
 *
 * Scope: the count lives in the memory of one running instance (one Deno process, or one
 * Workers isolate). Cloudflare runs many isolates, in many places, that share no memory, so on
 * Workers this caps what one token can do *through one isolate*: it stops a client from
 * piling up uploads on one instance, not a determined client spread across the network: the
 * shared per-token rate limit (`rate_limit.ts`, the Workers rate-limiting binding) does that.
 *
 * @module
 */

import type { Context, MiddlewareHandler } from "hono";
import { bearerToken } from "./token.ts";

/** Options of {@link concurrencyLimit}. */
export interface ConcurrencyLimitOptions {
  /**
   * Requests one token may have in flight; `0` turns the limit off.
   * @default {4}
   */
  maxPerToken?: number;
  /**
   * The `Retry-After` sent with the 429, in seconds.
   * @default {1}
   */
  retryAfterSeconds?: number;
  /**
   * Finds the key a request counts against; `undefined` leaves it unlimited, so it must be
   * `undefined` only for requests the routes refuse for want of a token.
   * @default {the request's token, read by the app's own parser (`token.ts`)}
   */
  key?: (c: Context) => string | undefined;
  /** Builds the refusal (the app's RFC 9457 problem with code `too_many_requests`). */
  refuse: (c: Context, retryAfterSeconds: number, maxPerToken: number) => Response;
}

/** A running limit: the middleware, and how a streaming answer keeps its slot. */
export interface ConcurrencyLimit {
  /** The Hono middleware. */
  middleware: MiddlewareHandler;
  /**
   * Keeps a request's slot after its handler returned, until `done` settles: for an answer
   * whose body streams on (a download), so that the slot is freed only when the body has
   * finished or been cancelled. Where the runtime has an execution context (Workers), `done`
   * is also handed to `waitUntil`, so that it settles even after the client went away.
   *
   * @param c The request's context.
   * @param done Settles when the body is through.
   */
  holdUntil(c: Context, done: Promise<unknown>): void;
}

/**
 * Makes a per-token concurrency limit. Mount its middleware on the routes that do upstream
 * work. A request's slot is freed when its handler returns (for an upload: after the upload,
 * the completion, or the failure), or, where the handler asked with
 * {@link ConcurrencyLimit.holdUntil}, when its answer's body is through.
 *
 * @param options The limit, the `Retry-After`, how requests are keyed and refused.
 * @returns The limit.
 *
 * @example
 * ```ts ignore
 * import { Hono } from "hono";
 * import { concurrencyLimit } from "./concurrency.ts";
 * const limit = concurrencyLimit({
 *   maxPerToken: 2,
 *   refuse: (c) => c.json({ code: "too_many_requests" }, 429),
 * });
 * const app = new Hono();
 * app.put("/attachments/:name", limit.middleware, (c) => c.text("stored", 201));
 * ```
 */
export function concurrencyLimit(options: ConcurrencyLimitOptions): ConcurrencyLimit {
  const {
    maxPerToken = 4,
    retryAfterSeconds = 1,
    key = (c: Context) => bearerToken(c.req.raw.headers),
    refuse,
  } = options;
  const counts = new Map<string, number>();
  const holds = new WeakMap<Request, Promise<unknown>>();

  const middleware: MiddlewareHandler = async (c, next) => {
    const token = maxPerToken > 0 ? key(c) : undefined;
    if (token === undefined) return await next();
    const held = counts.get(token) ?? 0;
    if (held >= maxPerToken) {
      c.res = refuse(c, retryAfterSeconds, maxPerToken);
      return;
    }
    counts.set(token, held + 1);
    const release = () => {
      const left = (counts.get(token) ?? 1) - 1;
      if (left > 0) counts.set(token, left);
      else counts.delete(token);
    };
    try {
      await next();
    } catch (error) {
      release();
      throw error;
    }
    const hold = holds.get(c.req.raw);
    if (hold) hold.then(release, release);
    else release();
  };

  return {
    middleware,
    holdUntil(c, done) {
      if (maxPerToken === 0) return;
      holds.set(c.req.raw, done);
      // workerd drops a request's pending work once its client has gone away, unless it was
      // handed to waitUntil: `done` would then never settle, and the slot never come back.
      try {
        c.executionCtx.waitUntil(done);
      } catch { /* no execution context (Deno): pending work always runs on */ }
    },
  };
}
