/**
 * Builds the development page's script: `worker/page/page.ts` and `src/browser.ts` bundled
 * into one JavaScript module for the browser, with `deno bundle`. Runs under Deno only (at
 * build time, or when the Deno entry point starts with the page enabled).
 *
 * @module
 */

/** The page script's entry point. */
export const PAGE_SCRIPT_ENTRY: URL = new URL("./page/page.ts", import.meta.url);

/**
 * Bundles the page script for the browser.
 *
 * @returns The JavaScript, minified.
 * @throws {Error} With `deno bundle`'s own message when it fails.
 *
 * @example
 * ```ts ignore
 * import { bundlePageScript } from "./page_script.ts";
 * await Deno.writeTextFile("dist/page.js", await bundlePageScript());
 * ```
 */
export async function bundlePageScript(): Promise<string> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--minify",
      PAGE_SCRIPT_ENTRY.pathname,
    ],
    cwd: new URL("..", import.meta.url).pathname,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    throw new Error(`deno bundle of the page script failed: ${new TextDecoder().decode(stderr)}`);
  }
  return new TextDecoder().decode(stdout);
}
