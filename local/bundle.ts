/**
 * Bundles the upload worker for workerd, as `deno task build` does.
 *
 * @module
 */

const ROOT = new URL("..", import.meta.url).pathname;

/** Where `deno task build` puts the bundle, and where `worker/wrangler.jsonc` looks for it. */
export const WORKER_BUNDLE: string = `${ROOT}dist/worker.js`;

/**
 * Bundles `worker/workers.ts` with `deno bundle --platform=browser --format=esm --minify`.
 * The bundle is made under a temporary name and renamed into place only when it differs from
 * what is there, so that a running `wrangler dev` never sees half a file or a needless change.
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
  const temporary = `${out}.${crypto.randomUUID()}.tmp`;
  const { code, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "bundle",
      "--quiet",
      "--platform=browser",
      "--format=esm",
      "--minify",
      `${ROOT}worker/workers.ts`,
      "-o",
      temporary,
    ],
    cwd: ROOT,
    stdout: "null",
    stderr: "piped",
  }).output();
  if (code !== 0) {
    await Deno.remove(temporary).catch(() => {});
    throw new Error(`deno bundle failed:\n${new TextDecoder().decode(stderr)}`);
  }
  const fresh = await Deno.readFile(temporary);
  const current = await Deno.readFile(out).catch(() => undefined);
  if (current && current.length === fresh.length && current.every((b, i) => b === fresh[i])) {
    await Deno.remove(temporary);
    return false;
  }
  await Deno.rename(temporary, out);
  return true;
}
