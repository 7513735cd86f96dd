/**
 * Builds the worker bundle for workerd (`dist/worker.js`): `worker/workers.ts` with the
 * development page's scripts embedded, so that one bundle serves the page wherever
 * `DEV_PAGE` is `true` (and nowhere else). Browsers cannot run TypeScript, so the page's
 * scripts are bundled for the browser first, then handed to the worker as strings.
 *
 * ```sh
 * deno run -A worker/build.ts dist/worker.js
 * ```
 *
 * @module
 */

import { bundlePageScripts } from "./page_script.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/**
 * Bundles the worker, its page scripts embedded, into `out` (written under a temporary name
 * and then renamed, so that readers never see half a file).
 *
 * @param out Where the bundle goes, such as `dist/worker.js`.
 * @returns The bundle's size in bytes.
 * @throws {Error} With `deno bundle`'s own message when a bundle fails.
 *
 * @example
 * ```ts ignore
 * import { buildWorkerBundle } from "./build.ts";
 * const bytes = await buildWorkerBundle("dist/worker.js");
 * ```
 */
export async function buildWorkerBundle(out: string): Promise<number> {
  const dir = out.slice(0, out.lastIndexOf("/") + 1) || "./";
  await Deno.mkdir(dir, { recursive: true });
  const scripts = await bundlePageScripts();
  const id = crypto.randomUUID();
  // The entry lives in dist/ (beside the sources' import map), never in the checkout's code.
  const entry = `${ROOT}dist/entry-${id}.ts`;
  const temporary = `${out}.${id}.tmp.js`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  await Deno.writeTextFile(
    entry,
    `import { createWorker } from "../worker/workers.ts";\n` +
      `export default createWorker({ devPageScripts: ${JSON.stringify(scripts)} });\n`,
  );
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--platform=browser",
        "--format=esm",
        "--minify",
        entry,
        "-o",
        temporary,
      ],
      cwd: ROOT,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).output();
    if (code !== 0) {
      throw new Error(`deno bundle of the worker failed:\n${new TextDecoder().decode(stderr)}`);
    }
    await Deno.rename(temporary, out);
  } finally {
    await Deno.remove(entry).catch(() => {});
    await Deno.remove(temporary).catch(() => {});
  }
  return (await Deno.stat(out)).size;
}

if (import.meta.main) {
  const out = Deno.args[0] ?? "dist/worker.js";
  const bytes = await buildWorkerBundle(out);
  console.log(`${out}: ${(bytes / 1024).toFixed(1)} KB`);
}
