/**
 * Building workers the way they deploy, to weigh them: `wrangler deploy --dry-run --minify`
 * and gzip (CompressionStream). Comparison workers written for Deno (with `npm:` imports)
 * are first bundled for the browser platform with esbuild, the bundler wrangler itself
 * uses, so that packages' `browser` builds are the ones picked.
 *
 * @module
 */

import * as esbuild from "npm:esbuild@0.27.3";
import { WRANGLER } from "../testing/wrangler.ts";
import { npmSpecifiers } from "../worker/_build/bundle.ts";

/** A built worker. */
export interface BuiltWorker {
  /** The deployable script wrangler wrote. */
  file: string;
  /** Its size in bytes (minified). */
  bytes: number;
  /** Its gzip size in bytes, measured with CompressionStream. */
  gzipBytes: number;
  /** What wrangler itself reported, such as `11.72 KiB / gzip: 4.61 KiB`. */
  wranglerReport: string;
}

/**
 * Bundles an entry for the browser platform (ESM) into one file, resolving `npm:`
 * specifiers from `node_modules` (Deno fills it with `"nodeModulesDir": "auto"`).
 *
 * @param entry The entry module.
 * @param outfile Where the bundle goes.
 *
 * @example
 * ```ts ignore
 * import { bundleForBrowser } from "./bundling.ts";
 * await bundleForBrowser("bench/bundle/sdk_worker.ts", "/tmp/sdk.js");
 * ```
 */
export async function bundleForBrowser(entry: string, outfile: string): Promise<void> {
  try {
    await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      outfile,
      logLevel: "error",
      plugins: [npmSpecifiers],
    });
  } finally {
    await esbuild.stop();
  }
}

/**
 * Runs `wrangler deploy --dry-run --minify --outdir` and weighs the script it wrote.
 *
 * @param config The wrangler configuration file.
 * @param outdir An empty folder for the output.
 * @param cwd Where to run wrangler.
 * @returns The built script's sizes.
 *
 * @example
 * ```ts ignore
 * import { wranglerBuild } from "./bundling.ts";
 * const built = await wranglerBuild("wrangler.jsonc", "/tmp/out");
 * ```
 */
export async function wranglerBuild(
  config: string,
  outdir: string,
  cwd = Deno.cwd(),
): Promise<BuiltWorker> {
  const output = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      WRANGLER,
      "deploy",
      "--dry-run",
      "--minify",
      "--outdir",
      outdir,
      "--config",
      config,
    ],
    cwd,
    env: { WRANGLER_SEND_METRICS: "false", NO_COLOR: "1", CI: "1" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout) + new TextDecoder().decode(output.stderr);
  if (!output.success) {
    throw new Error(`wrangler deploy --dry-run failed:\n${text.slice(-2000)}`);
  }
  const report = /Total Upload: ([^\n]+)/.exec(text)?.[1]?.trim() ?? "";
  const scripts: string[] = [];
  for await (const entry of Deno.readDir(outdir)) {
    if (entry.isFile && /\.m?js$/.test(entry.name)) scripts.push(`${outdir}/${entry.name}`);
  }
  if (scripts.length !== 1) {
    throw new Error(`expected one script in ${outdir}, found ${scripts.length}`);
  }
  const bytes = await Deno.readFile(scripts[0]);
  return {
    file: scripts[0],
    bytes: bytes.length,
    gzipBytes: await gzipSize(bytes),
    wranglerReport: report,
  };
}

/**
 * The gzip size of some bytes, with the standard CompressionStream.
 *
 * @param bytes The bytes.
 * @returns The compressed length.
 *
 * @example
 * ```ts ignore
 * import { gzipSize } from "./bundling.ts";
 * await gzipSize(new TextEncoder().encode("hello"));
 * ```
 */
export async function gzipSize(bytes: Uint8Array<ArrayBuffer>): Promise<number> {
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("gzip"));
  return (await new Response(stream).arrayBuffer()).byteLength;
}
