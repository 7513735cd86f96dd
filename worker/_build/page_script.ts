/**
 * Builds the development page's scripts with `deno bundle` for the browser: the page's own
 * script (`worker/page/page.ts`, the browser client included) and the browser client alone
 * (`src/browser.ts`), so that it can be tried from the page's console. Runs under Deno only:
 * at build time, or when the Deno entry point starts with the page enabled.
 *
 * @module
 */

/** The page's scripts, as JavaScript modules. */
export interface DevPageScripts {
  /** `worker/page/page.ts` bundled, served as `/dev/page.js`. */
  page: string;
  /** `src/browser.ts` bundled, served as `/dev/browser.js`. */
  client: string;
}

/** The entry point of each script. */
export const PAGE_SCRIPT_ENTRIES: Readonly<Record<keyof DevPageScripts, URL>> = {
  page: new URL("../page/page.ts", import.meta.url),
  client: new URL("../../src/browser.ts", import.meta.url),
};

/**
 * Bundles the page's scripts for the browser.
 *
 * @returns The JavaScript of each, minified.
 * @throws {Error} With `deno bundle`'s own message when it fails.
 *
 * @example
 * ```ts ignore
 * import { bundlePageScripts } from "./page_script.ts";
 * const { page } = await bundlePageScripts();
 * await Deno.writeTextFile("dist/page.js", page);
 * ```
 */
export async function bundlePageScripts(): Promise<DevPageScripts> {
  const [page, client] = await Promise.all([
    bundleForBrowser(PAGE_SCRIPT_ENTRIES.page),
    bundleForBrowser(PAGE_SCRIPT_ENTRIES.client),
  ]);
  return { page, client };
}

/**
 * Bundles one module and everything it imports into a single minified ES module for the
 * browser, with `deno bundle --platform=browser --format=esm --minify`.
 *
 * @param entry The module's path or `file:` URL.
 * @returns The JavaScript.
 * @throws {Error} With `deno bundle`'s own message when it fails.
 *
 * @example
 * ```ts ignore
 * import { bundleForBrowser } from "./page_script.ts";
 * const js = await bundleForBrowser("worker/workers.ts");
 * ```
 */
export async function bundleForBrowser(entry: string | URL): Promise<string> {
  const path = entry instanceof URL ? entry.pathname : entry;
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: ["bundle", "--quiet", "--platform=browser", "--format=esm", "--minify", path],
    cwd: new URL("../..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle ${path} failed: ${new TextDecoder().decode(stderr).trim()}`);
  }
  return new TextDecoder().decode(stdout);
}
