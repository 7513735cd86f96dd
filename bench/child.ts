/**
 * The life of a benchmark server process: it runs until SIGTERM, SIGINT, or its parent going
 * away (stdin closing), then cleans up once and exits.
 *
 * @module
 */

/**
 * Runs `cleanup` once, then exits 0, on SIGTERM, SIGINT or the end of stdin.
 *
 * @param cleanup What stops the servers and removes their data.
 *
 * @example
 * ```ts ignore
 * import { stopWith } from "./child.ts";
 * stopWith(() => s3.close());
 * ```
 */
export function stopWith(cleanup: () => Promise<unknown>): void {
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await cleanup();
    Deno.exit(0);
  };
  Deno.addSignalListener("SIGTERM", stop);
  Deno.addSignalListener("SIGINT", stop);
  // The parent holds stdin open; when it goes away, so does this process.
  (async () => {
    for await (const _ of Deno.stdin.readable) { /* wait for EOF */ }
    await stop();
  })();
}
