/**
 * `deno task build`: bundles the upload worker for Cloudflare Workers into `dist/worker.js`
 * (what `worker/wrangler.jsonc` deploys), or, with `--dev`, the development bundle with the
 * page into `dist/dev/worker.js`. The bundling itself is in `worker/_build/`.
 *
 * ```sh
 * deno task build                  # dist/worker.js, for deploying
 * deno task build --dev            # dist/dev/worker.js, with the development page
 * deno task build --out x.js       # somewhere else
 * ```
 *
 * @module
 */

import { parseCommandLine } from "./_command_line.ts";
import { buildWorkerBundle, DEV_WORKER_BUNDLE, WORKER_BUNDLE } from "./_build/bundle.ts";

const USAGE = `Usage: deno task build [--dev] [--out FILE]

Bundles the upload worker for Cloudflare Workers (deno bundle, minified, for the browser
platform) and prints the bundle's size.

Options:
  --dev        the development bundle: the worker with its development page (DEV_PAGE=true)
  --out FILE   where the bundle goes (default dist/worker.js; with --dev dist/dev/worker.js)
  --help       this text`;

if (import.meta.main) {
  const { values } = parseCommandLine(Deno.args, USAGE, {
    dev: { type: "boolean", default: false },
    out: { type: "string" },
  });
  const out = values.out ?? (values.dev ? DEV_WORKER_BUNDLE : WORKER_BUNDLE);
  await buildWorkerBundle(out, { devPage: values.dev });
  console.log(`${out}: ${((await Deno.stat(out)).size / 1024).toFixed(1)} KB`);
}
