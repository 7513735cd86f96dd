/**
 * Bundle size: the upload worker as `wrangler deploy --dry-run --minify` writes it, gzipped,
 * beside the same bare three calls built on `@aws-sdk/client-connectparticipant` and on this
 * project's own client.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { type BuiltWorker, bundleForBrowser, wranglerBuild } from "../bundling.ts";
import { buildProductWorker } from "../product.ts";

/** The target: at most 20 KB (20,000 bytes) gzipped. */
const TARGET_GZIP_BYTES = 20_000;

const COMPARISONS = [
  {
    name: "sdk",
    entry: new URL("../bundle/sdk_worker.ts", import.meta.url).pathname,
    measure: "bare three calls on @aws-sdk/client-connectparticipant",
  },
  {
    name: "client",
    entry: new URL("../bundle/client_worker.ts", import.meta.url).pathname,
    measure: "bare three calls on this project's client (src/client.ts)",
  },
];

/**
 * Runs the bundle-size figure.
 *
 * @param _plan Unused: the figure is the same in every mode.
 * @param log Progress lines.
 * @returns Rows: the worker, then the comparisons.
 */
export async function bundleFigure(
  _plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-bundle-" });
  try {
    const product = await buildProductWorker(dir);
    log(`bundle worker: ${kb(product.bytes)} minified, ${kb(product.gzipBytes)} gzip`);
    const met = product.gzipBytes <= TARGET_GZIP_BYTES;
    const rows: Row[] = [{
      figure: "bundle",
      measure: "upload worker (wrangler deploy --dry-run --minify), gzip",
      result: `${kb(product.gzipBytes)} (${
        kb(product.bytes)
      } minified; wrangler: ${product.wranglerReport})`,
      target: "≤ 20 KB gzip",
      verdict: met ? "met" : "missed",
      miss: met ? undefined : `by ${kb(product.gzipBytes - TARGET_GZIP_BYTES)}`,
    }];
    const compared: Record<string, BuiltWorker> = {};
    for (const comparison of COMPARISONS) {
      const script = `${dir}/${comparison.name}-prebundle.js`;
      await bundleForBrowser(comparison.entry, script);
      const config = `${dir}/${comparison.name}-wrangler.json`;
      await Deno.writeTextFile(
        config,
        JSON.stringify({
          name: `bench-${comparison.name}`,
          main: script,
          compatibility_date: product.compatibilityDate,
          compatibility_flags: product.compatibilityFlags,
        }),
      );
      const outdir = `${dir}/${comparison.name}-out`;
      await Deno.mkdir(outdir);
      const built = await wranglerBuild(config, outdir, dir);
      compared[comparison.name] = built;
      log(`bundle ${comparison.name}: ${kb(built.bytes)} minified, ${kb(built.gzipBytes)} gzip`);
      rows.push({
        figure: "bundle",
        measure: `${comparison.measure}, gzip`,
        result: `${kb(built.gzipBytes)} (${kb(built.bytes)} minified; ${
          (built.gzipBytes / product.gzipBytes).toFixed(1)
        }× the worker)`,
        target: "for comparison",
        verdict: "info",
      });
    }
    return {
      figure: "bundle",
      rows,
      notes: [
        `The worker is built as it deploys (${product.description}); the script wrangler ` +
        "writes is gzipped with CompressionStream. The comparison workers " +
        "(`bench/bundle/`) do only start → PUT → complete, with no validation or error " +
        "mapping; each is first bundled for the browser platform with esbuild (the bundler " +
        "wrangler uses; the browser platform picks the SDK's browser build, as a Worker " +
        "would need) and then goes through the same `wrangler deploy --dry-run --minify`.",
      ],
      data: {
        worker: {
          bytes: product.bytes,
          gzipBytes: product.gzipBytes,
          wrangler: product.wranglerReport,
        },
        comparisons: Object.fromEntries(
          Object.entries(compared).map(([k, v]) => [k, {
            bytes: v.bytes,
            gzipBytes: v.gzipBytes,
            wrangler: v.wranglerReport,
          }]),
        ),
      },
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** Bytes as `12.3 KB` (10^3). */
function kb(bytes: number): string {
  return `${(bytes / 1000).toFixed(1)} KB`;
}
