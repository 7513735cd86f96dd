/**
 * The upload worker's entry point for Deno: `Deno.serve`. The configuration comes from the
 * environment (see `config.ts`); the address from `--hostname`/`--port` or `PORT`.
 *
 * ```sh
 * AWS_REGION=us-east-1 deno run --allow-net --allow-env worker/deno.ts --port 8787
 * ```
 *
 * With `DEV_PAGE=true` it bundles the development page's scripts as it starts, which takes
 * `--allow-read --allow-run` too. The app reads `request.signal` to cancel upstream work when
 * the client goes away: run it with Deno's `no-legacy-abort` (the project's `deno.json` turns it
 * on; elsewhere `--unstable-no-legacy-abort`), under which the signal fires only then.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createApp } from "./app.ts";
import { ConfigError, parseConfig } from "./config.ts";
import { devPageFactory } from "./dev_page.ts";
import { bundlePageScripts } from "./page_script.ts";

const { values } = parseArgs({
  args: Deno.args,
  options: { hostname: { type: "string" }, port: { type: "string" } },
});
const hostname = values.hostname ?? "127.0.0.1";
const port = Number(values.port ?? Deno.env.get("PORT") ?? 8787);

let app;
try {
  const config = parseConfig(Deno.env.toObject());
  app = createApp(config, {
    log: (entry) => console.log(JSON.stringify(entry)),
    devPage: config.devPage ? devPageFactory(await bundlePageScripts()) : undefined,
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
