/**
 * Bundles the upload worker for workerd, as `deno task build` does: `worker/workers.ts` with
 * the development page's scripts embedded (bundled for the browser first: browsers cannot run
 * TypeScript), so that one bundle serves the page wherever `DEV_PAGE` is `true`, and nowhere
 * else.
 *
 * ```sh
 * deno run -A local/bundle.ts   # dist/worker.js
 * ```
 *
 * @module
 */

import { bundlePageScripts } from "../worker/page_script.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Where `deno task build` puts the bundle, and where `worker/wrangler.jsonc` looks for it. */
export const WORKER_BUNDLE: string = `${ROOT}dist/worker.js`;

/**
 * Bundles the worker with `deno bundle --platform=browser --format=esm --minify`, the page's
 * scripts embedded. The bundle is made under a temporary name and renamed into place only
 * when it differs from what is there, so that a running `wrangler dev` never sees half a file
 * or a needless change.
 *
 * @param out Where the bundle goes. @default {WORKER_BUNDLE}
 * @returns Whether the file changed.
 * @throws {Error} With `deno bundle`'s output when bundling fails.
 *
 * @example
 * ```ts ignore
 * import { buildWorkerBundle } from "./bundle.ts";
 * await buildWorkerBundle();
 * ```
 */
export async function buildWorkerBundle(out: string = WORKER_BUNDLE): Promise<boolean> {
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const id = crypto.randomUUID();
  const temporary = `${out}.${id}.tmp`;
  // The entry hands the page's scripts to the Workers module. It is written under dist/
  // (inside the project, so that deno.json's import map applies), never among the sources.
  const entry = `${ROOT}dist/entry-${id}.ts`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  const scripts = await bundlePageScripts();
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
    if (code !== 0) throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
    const fresh = await Deno.readFile(temporary);
    const current = await Deno.readFile(out).catch(() => undefined);
    if (current && current.length === fresh.length && current.every((b, i) => b === fresh[i])) {
      return false;
    }
    await Deno.rename(temporary, out);
    return true;
  } finally {
    await Deno.remove(entry).catch(() => {});
    await Deno.remove(temporary).catch(() => {});
  }
}

if (import.meta.main) {
  const out = Deno.args[0] ?? WORKER_BUNDLE;
  await buildWorkerBundle(out);
  console.log(`${out}: ${((await Deno.stat(out)).size / 1024).toFixed(1)} KB`);
}
