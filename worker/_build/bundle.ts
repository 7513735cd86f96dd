/**
 * The upload worker's bundles for workerd: the production bundle (`deno task build`,
 * `worker/build.ts`) is `worker/workers.ts` alone; the development bundle (`deno task start`)
 * also carries the development page and its scripts (bundled for the browser first: browsers
 * cannot run TypeScript), served wherever `DEV_PAGE` is `true`.
 *
 * @module
 */

import { bundleForBrowser, bundlePageScripts } from "./page_script.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Where `deno task build` puts the bundle, and where `worker/wrangler.jsonc` looks for it. */
export const WORKER_BUNDLE: string = `${ROOT}dist/worker.js`;

/** Where the development bundle (with the page) goes. */
export const DEV_WORKER_BUNDLE: string = `${ROOT}dist/dev/worker.js`;

/** Options of {@link buildWorkerBundle}. */
export interface BundleOptions {
  /** Whether to include the development page. @default {false} */
  devPage?: boolean;
}

/**
 * Bundles the worker with `deno bundle --platform=browser --format=esm --minify`, with the
 * development page when asked. The bundle is made under a temporary name and renamed into place only
 * when it differs from what is there, so that a running `wrangler dev` never sees half a file
 * or a needless change.
 *
 * @param out Where the bundle goes. @default {WORKER_BUNDLE}
 * @param options Whether to include the development page.
 * @returns Whether the file changed.
 * @throws {Error} With `deno bundle`'s output when bundling fails.
 *
 * @example
 * ```ts ignore
 * import { buildWorkerBundle } from "./bundle.ts";
 * await buildWorkerBundle();
 * ```
 */
export async function buildWorkerBundle(
  out: string = WORKER_BUNDLE,
  options: BundleOptions = {},
): Promise<boolean> {
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const id = crypto.randomUUID();
  const temporary = `${out}.${id}.tmp`;
  // The entry hands the page's scripts to the Workers module. It is written under dist/
  // (inside the project, so that deno.json's import map applies), never among the sources.
  const entry = `${ROOT}dist/entry-${id}.ts`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  await Deno.writeTextFile(
    entry,
    options.devPage
      ? `import { createWorker } from "../worker/workers.ts";\n` +
        `import { devPageFactory } from "../worker/dev_page.ts";\n` +
        `export default createWorker({ devPage: devPageFactory(${
          JSON.stringify(await bundlePageScripts())
        }) });\n`
      : `export { default } from "../worker/workers.ts";\n`,
  );
  try {
    const fresh = new TextEncoder().encode(await bundleForBrowser(entry));
    const current = await Deno.readFile(out).catch(() => undefined);
    if (current && current.length === fresh.length && current.every((b, i) => b === fresh[i])) {
      return false;
    }
    await Deno.writeFile(temporary, fresh);
    await Deno.rename(temporary, out);
    return true;
  } finally {
    await Deno.remove(entry).catch(() => {});
    await Deno.remove(temporary).catch(() => {});
  }
}
