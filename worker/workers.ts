/**
 * The upload worker's entry point for Cloudflare Workers (workerd): `export default { fetch }`.
 * The configuration comes from the Worker's bindings (`vars` in `wrangler.jsonc`).
 *
 * @module
 */

import type { ExecutionContext } from "hono";
import { type AppOptions, createApp, type WorkerApp } from "./app.ts";
import { ConfigError, parseConfig, type WorkerEnv } from "./config.ts";
import { problemResponse } from "./problem.ts";
import type { RateLimiter } from "./rate_limit.ts";
import { AttachmentError } from "../src/_core/errors.ts";

/** workerd's identity stream that sends its body with a `Content-Length` of `length`. */
declare const FixedLengthStream: new (length: number) => TransformStream<Uint8Array, Uint8Array>;

/** A download's body keeps its `Content-Length` in workerd only through a FixedLengthStream. */
const bodyStream = (length: number | undefined): TransformStream<Uint8Array, Uint8Array> =>
  length === undefined ? new TransformStream() : new FixedLengthStream(length);

/**
 * The Worker's bindings besides its `vars`, as `wrangler.jsonc` declares them: the static
 * assets, which hold the OpenAPI document, and the per-token rate limiter.
 */
export interface WorkersBindings {
  /** The static assets (`generated/assets/`): `/openapi.json`. */
  ASSETS?: { fetch(input: string | URL | Request): Promise<Response> };
  /** The rate-limiting binding (`ratelimits`): `limit({ key })` counts one request. */
  RATE_LIMITER?: { limit(options: { key: string }): Promise<{ success: boolean }> };
}

/**
 * The `period` of the `RATE_LIMITER` binding in `wrangler.jsonc`, in seconds: what a refusal's
 * `Retry-After` says, since the binding tells no time of its own (a test holds the two equal).
 */
export const RATE_LIMIT_PERIOD_SECONDS = 10;

/** A Workers module: one `fetch` handler. */
export interface WorkerModule {
  /**
   * Serves one request.
   *
   * @param request The request.
   * @param env The Worker's bindings.
   * @param ctx The execution context (`waitUntil`).
   * @returns The answer.
   */
  fetch(
    request: Request,
    env: WorkerEnv & WorkersBindings,
    ctx?: ExecutionContext,
  ): Response | Promise<Response>;
}

/**
 * Makes the Workers module. The production bundle (`deno task build`) is this file's default
 * export, without the development page; the development bundle (`deno task build --dev`, used by
 * `deno task start`) passes the page, which is still served only where `DEV_PAGE` is `true`.
 *
 * @param options What the app is made with besides its configuration.
 * @returns The module to export as default.
 *
 * @example
 * ```ts ignore
 * import { createWorker } from "./workers.ts";
 * import { devPageFactory } from "./dev_page.ts";
 * export default createWorker({ devPage: devPageFactory(scripts) });
 * ```
 */
export function createWorker(
  options: Pick<AppOptions, "devPage"> = {},
): WorkerModule {
  const apps = new WeakMap<object, WorkerApp | ConfigError>();

  function appFor(env: WorkerEnv & WorkersBindings): WorkerApp | ConfigError {
    const known = apps.get(env);
    if (known) return known;
    let app: WorkerApp | ConfigError;
    try {
      app = createApp(parseConfig(env), {
        ...options,
        bodyStream,
        log: (entry) => console.log(JSON.stringify(entry)),
        ...(env.ASSETS ? { openapi: () => env.ASSETS!.fetch("https://assets/openapi.json") } : {}),
        ...(env.RATE_LIMITER ? { rateLimiter: bindingLimiter(env.RATE_LIMITER) } : {}),
      });
    } catch (error) {
      if (!(error instanceof ConfigError)) throw error;
      console.error(error.message);
      app = error;
    }
    apps.set(env, app);
    return app;
  }

  return {
    fetch(request, env, ctx) {
      const app = appFor(env);
      if (app instanceof ConfigError) {
        return problemResponse(
          new AttachmentError(
            "misconfigured",
            "validate",
            "the worker is misconfigured; its log says why",
          ),
        );
      }
      return app.fetch(request, env, ctx);
    },
  };
}

/** The rate-limiting binding as the app's {@link RateLimiter}. */
function bindingLimiter(binding: NonNullable<WorkersBindings["RATE_LIMITER"]>): RateLimiter {
  return {
    limit: async (key) => (await binding.limit({ key })).success,
    retryAfterSeconds: RATE_LIMIT_PERIOD_SECONDS,
  };
}

/** The Workers module, without the development page's scripts. */
export default createWorker();
