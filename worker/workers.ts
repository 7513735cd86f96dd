/**
 * The upload worker's entry point for Cloudflare Workers (workerd): `export default { fetch }`.
 * The configuration comes from the Worker's bindings (`vars` in `wrangler.jsonc`).
 *
 * @module
 */

import { createApp, type WorkerApp } from "./app.ts";
import { ConfigError, parseConfig, type WorkerEnv } from "./config.ts";
import { problemResponse } from "./problem.ts";

const apps = new WeakMap<object, WorkerApp | ConfigError>();

function appFor(env: WorkerEnv): WorkerApp | ConfigError {
  const known = apps.get(env);
  if (known) return known;
  let app: WorkerApp | ConfigError;
  try {
    app = createApp(parseConfig(env), { log: (entry) => console.log(JSON.stringify(entry)) });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    app = error;
  }
  apps.set(env, app);
  return app;
}

/** The Workers module: one `fetch` handler serving the app. */
export default {
  /**
   * Serves one request.
   *
   * @param request The request.
   * @param env The Worker's bindings.
   * @returns The answer.
   */
  fetch(request: Request, env: WorkerEnv): Response | Promise<Response> {
    const app = appFor(env);
    if (app instanceof ConfigError) {
      return problemResponse("misconfigured", "the worker is misconfigured; its log says why");
    }
    return app.fetch(request, env);
  },
};
