/**
 * The upload worker's entry point for Deno: `Deno.serve`. The configuration comes from the
 * environment (see `config.ts`); the address from `--hostname`/`--port` or `PORT`.
 *
 * ```sh
 * AWS_REGION=us-east-1 deno run --allow-net --allow-env worker/deno.ts --port 8787
 * ```
 *
 * This is the production entry point, like the Workers bundle: it does not carry the
 * development page, so `DEV_PAGE=true` makes `/` answer `500 misconfigured` in both runtimes
 * (`worker/_build/dev_deno.ts` serves the worker with its page, for development). The app reads
 * `request.signal` to cancel upstream work when the client goes away: run it with Deno's
 * `no-legacy-abort` (the project's `deno.json` turns it on; elsewhere
 * `--unstable-no-legacy-abort`), under which the signal fires only then.
 *
 * @module
 */

import { parseCommandLine } from "./_command_line.ts";
import { type AppOptions, createApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import openapiDocument from "../generated/assets/openapi.json" with { type: "json" };

/**
 * What the Deno edge gives the app: the OpenAPI document from a static import (workerd serves
 * the same file as a static asset, outside its bundle).
 *
 * @example
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * import { DENO_EDGE } from "./deno.ts";
 * const app = createApp(config, { ...DENO_EDGE });
 * ```
 */
export const DENO_EDGE: Pick<AppOptions, "openapi"> = {
  openapi: () => Response.json(openapiDocument),
};

const USAGE = `Usage: deno task worker:deno [--hostname H] [--port N]

Serves the upload worker under Deno (Deno.serve). Its configuration comes from the
environment: PARTICIPANT_ENDPOINT or AWS_REGION, UPLOAD_HOSTS, MAX_ATTACHMENT_BYTES,
ALLOWED_TYPES, CORS_ORIGINS, ... (see worker/config.ts).

Options:
  --hostname H   address to listen on (default 127.0.0.1)
  --port N       port to listen on (default PORT, else 8787; 0 picks a free one)
  --help         this text`;

/**
 * Serves the worker with the configuration from the environment, on the address from the
 * command line, until SIGINT or SIGTERM.
 *
 * @param options What the app is made with besides its configuration (the development
 * entry point passes the page).
 * @returns The server.
 *
 * @example
 * ```ts ignore
 * import { serveWorker } from "./deno.ts";
 * serveWorker();
 * ```
 */
export function serveWorker(options: Pick<AppOptions, "devPage"> = {}): Deno.HttpServer {
  const { values } = parseCommandLine(Deno.args, USAGE, {
    hostname: { type: "string" },
    port: { type: "string" },
  });
  const hostname = values.hostname ?? "127.0.0.1";
  const port = Number(values.port ?? Deno.env.get("PORT") ?? 8787);

  let app;
  try {
    const config = parseConfig(Deno.env.toObject());
    app = createApp(config, {
      ...DENO_EDGE,
      log: (entry) => console.log(JSON.stringify(entry)),
      devPage: config.devPage ? options.devPage : undefined,
    });
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    console.error(error.message);
    Deno.exit(1);
  }

  const server = Deno.serve({
    hostname,
    port,
    onListen: (addr) => console.log(`listening on http://${addr.hostname}:${addr.port}/`),
  }, app.fetch);

  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      server.shutdown().then(() => Deno.exit(0));
    });
  }
  return server;
}

if (import.meta.main) serveWorker();
