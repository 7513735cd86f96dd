/**
 * Runs the upload worker's bundle inside workerd through Miniflare: the Workers runtime
 * itself, started in well under a second; optionally fronted by a relay that answers
 * `Expect: 100-continue`, which workerd never does.
 *
 * @module
 */

import type { Readable } from "node:stream";
import { Miniflare } from "miniflare";
import { assertPortFree, freePort, startOnPickedPort } from "./ports.ts";
import { type Relay, startRelay } from "./relay.ts";
import { wranglerSettings } from "./wrangler.ts";

/** Options of {@link startWorkerd}. */
export interface WorkerdOptions {
  /** The bundle to run (`deno task build`, or `deno task build --dev`). */
  scriptPath: string;
  /** The Worker's `vars`. */
  vars: Record<string, string>;
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** `0` picks a free port; a port in use is an error. @default {0} */
  port?: number;
  /** Told every line the worker prints. */
  onLine?: (line: string) => void;
  /** Opens workerd's inspector (Chrome DevTools Protocol) on this port of 127.0.0.1. */
  inspectorPort?: number;
  /**
   * Runs the rate limiters `worker/wrangler.jsonc` declares (the per-token limit, as
   * deployed); `false` leaves them out, for load that one token sends on purpose (tests,
   * benchmarks): the worker then has no shared limit, as under Deno.
   * @default {true}
   */
  rateLimit?: boolean;
  /**
   * Serve through a relay (`testing/relay.ts`) that answers `Expect: 100-continue` itself: the
   * relay listens on `hostname:port`, in a thread of its own, and passes every byte on to
   * workerd, which listens on a free port of its own. Without it, curl (and other clients that
   * send the header for large bodies) wait up to a second before they send a body, since
   * workerd never answers it.
   * @default {false}
   */
  answerContinue?: boolean;
}

/** A worker running in workerd. */
export interface RunningWorkerd {
  /** The base URL, such as `http://127.0.0.1:8787`. */
  url: string;
  /** The port the worker is served on (the relay's, with `answerContinue`). */
  port: number;
  /** The relay in front of workerd, with `answerContinue`. */
  relay?: Relay;
  /** Stops workerd. */
  close(): Promise<void>;
}

/**
 * Starts the bundle in workerd with the given `vars` and waits until it serves.
 *
 * @param options The bundle, its vars, and where to listen.
 * @returns The running worker.
 *
 * @example
 * ```ts ignore
 * import { startWorkerd } from "./workerd.ts";
 * const worker = await startWorkerd({ scriptPath: "dist/worker.js", vars: { AWS_REGION: "us-east-1" } });
 * await worker.close();
 * ```
 */
export async function startWorkerd(options: WorkerdOptions): Promise<RunningWorkerd> {
  const hostname = options.hostname ?? "127.0.0.1";
  assertPortFree(hostname, options.port ?? 0, "upload worker", "WORKER_PORT");
  if (options.answerContinue) {
    // workerd on a free port of its own; the relay takes the worker's port.
    const worker = await startWorkerd({ ...options, answerContinue: false, port: 0 });
    let relay: Relay;
    try {
      relay = await startRelay({
        target: { hostname, port: worker.port },
        hostname,
        port: options.port ?? 0,
      });
    } catch (error) {
      await worker.close();
      throw error;
    }
    return {
      url: relay.url,
      port: relay.port,
      relay,
      async close() {
        await relay.close();
        await worker.close();
      },
    };
  }
  return await startOnPickedPort(!options.port, () => startOnce(options));
}

/**
 * The bindings `worker/wrangler.jsonc` declares besides its `vars`, as Miniflare options, so
 * that Miniflare runs what `wrangler dev` and `wrangler deploy` read: the static assets (their
 * folder, binding and `run_worker_first`) and, when asked, the rate limiters.
 */
function declaredBindings(rateLimit: boolean): Record<string, unknown> {
  const { assets, rateLimits } = wranglerSettings();
  return {
    ratelimits: Object.fromEntries(
      (rateLimit ? rateLimits : []).map(({ name, limit, period }) => [
        name,
        { simple: { limit, period } },
      ]),
    ),
    ...(assets
      ? {
        assets: {
          directory: assets.directory,
          binding: assets.binding,
          routerConfig: {
            has_user_worker: true,
            invoke_user_worker_ahead_of_assets: assets.runWorkerFirst,
          },
        },
      }
      : {}),
  };
}

async function startOnce(options: WorkerdOptions): Promise<RunningWorkerd> {
  const { scriptPath, vars, hostname = "127.0.0.1", onLine } = options;
  const port = options.port || freePort(hostname);
  const tail: string[] = [];
  const mf = new Miniflare({
    modules: true,
    scriptPath,
    compatibilityDate: wranglerSettings().compatibilityDate,
    bindings: vars,
    ...declaredBindings(options.rateLimit ?? true),
    host: hostname,
    port,
    cf: false,
    ...(options.inspectorPort ? { inspectorPort: options.inspectorPort } : {}),
    handleRuntimeStdio(stdout: Readable, stderr: Readable) {
      for (const stream of [stdout, stderr]) {
        let buffered = "";
        stream.on("data", (chunk: Uint8Array | string) => {
          buffered += typeof chunk === "string" ? chunk : new TextDecoder().decode(chunk);
          let newline;
          while ((newline = buffered.indexOf("\n")) >= 0) {
            const line = buffered.slice(0, newline);
            tail.push(line);
            if (tail.length > 20) tail.shift();
            onLine?.(line);
            buffered = buffered.slice(newline + 1);
          }
        });
      }
    },
  });
  let ready: URL;
  try {
    ready = await mf.ready;
  } catch (error) {
    await mf.dispose().catch(() => {});
    throw new Error(
      `workerd did not start on ${hostname}:${port}: ${error}; its last output:\n${
        tail.join("\n")
      }`,
    );
  }
  return { url: ready.href.replace(/\/$/, ""), port, close: () => mf.dispose() };
}
