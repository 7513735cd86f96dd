/**
 * The upload worker as it deploys: the project's own wrangler configuration, built with
 * `wrangler deploy --dry-run --minify` into a folder, with the settings workerd needs to
 * serve the result on its own.
 *
 * @module
 */

import { WRANGLER_CONFIG, wranglerSettings } from "../testing/wrangler.ts";
import { type BuiltWorker, wranglerBuild } from "./bundling.ts";

/** The built upload worker. */
export interface ProductWorker extends BuiltWorker {
  /** The deployable script. */
  script: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** The configuration's `vars`, as strings. */
  vars: Record<string, string>;
  /** How it was built, for the results. */
  description: string;
}

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Builds the upload worker the way it deploys: `deno task build`, then `wrangler deploy
 * --dry-run --minify --outdir` on `worker/wrangler.jsonc`.
 *
 * @param dir A folder for the output.
 * @returns The deployable script, its sizes and its settings.
 *
 * @example
 * ```ts ignore
 * import { buildProductWorker } from "./product.ts";
 * const worker = await buildProductWorker(await Deno.makeTempDir());
 * console.log(worker.gzipBytes);
 * ```
 */
export async function buildProductWorker(dir: string): Promise<ProductWorker> {
  const built = await new Deno.Command(Deno.execPath(), {
    args: ["task", "build"],
    cwd: ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!built.success) {
    throw new Error(
      `deno task build failed: ${new TextDecoder().decode(built.stderr).slice(-1000)}`,
    );
  }
  const outdir = `${dir}/product`;
  await Deno.mkdir(outdir, { recursive: true });
  const deployed = await wranglerBuild(WRANGLER_CONFIG, outdir, ROOT);
  return {
    ...deployed,
    script: deployed.file,
    ...wranglerSettings(),
    description: "deno task build, then wrangler deploy --dry-run --minify " +
      "--config worker/wrangler.jsonc",
  };
}
