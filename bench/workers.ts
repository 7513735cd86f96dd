/**
 * The upload worker under test, in workerd or in Deno, pointed at a benchmark stack.
 *
 * @module
 */

import { runInMiniflare, startWorker } from "../testing/worker.ts";
import type { BenchStack } from "./stack.ts";
import { findProcesses, readStat } from "../testing/processes.ts";
import { bundleForBrowser } from "./bundling.ts";

/** The runtimes the worker runs in. */
export type Runtime = "workerd" | "deno";

/** How workerd is started: Miniflare (one workerd process) or `wrangler dev`. */
export type Launcher = "miniflare" | "wrangler";

/** A running worker. */
export interface BenchWorker {
  runtime: Runtime;
  /** Its base URL. */
  url: string;
  /** The process that serves its requests (workerd, or the Deno server). */
  pid: number;
  /**
   * The processes whose memory and CPU are the worker's: the Deno server; the workerd that
   * Miniflare runs; or, under `wrangler dev`, every workerd under wrangler.
   */
  workerPids(): number[];
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts the upload worker in a runtime, configured for a stack: its Participant Service,
 * its S3 (the only upload host allowed) and a size limit.
 *
 * @param runtime `workerd` or `deno`.
 * @param stack The stack it calls.
 * @param maxAttachmentBytes The size limit.
 * @param launcher How workerd is started.
 * @param cpuProfileDir For Deno: where to write a CPU profile (`--cpu-prof`) when it stops.
 * @returns The running worker.
 *
 * @example
 * ```ts ignore
 * import { launchWorker } from "./workers.ts";
 * const worker = await launchWorker("workerd", stack, 2 ** 30);
 * await worker.close();
 * ```
 */
export async function launchWorker(
  runtime: Runtime,
  stack: BenchStack,
  maxAttachmentBytes: number,
  launcher: Launcher = "miniflare",
  cpuProfileDir?: string,
): Promise<BenchWorker> {
  const options = {
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3PublicUrl).host],
    maxAttachmentBytes,
  };
  const running = await startWorker({ runtime, launcher, cpuProfileDir, ...options });
  return {
    runtime,
    url: running.url,
    pid: running.pid,
    workerPids: () => {
      if (runtime === "deno") return [running.pid];
      // Under wrangler dev, a second workerd (wrangler's proxy) relays every request: count
      // every workerd under wrangler. Miniflare runs the one workerd that serves the worker.
      const wrangler = launcher === "wrangler" ? readStat(running.pid)?.ppid : undefined;
      return wrangler ? findProcesses(wrangler, "workerd") : [running.pid];
    },
    close: () => running.close(),
  };
}

/**
 * The control workers of the concurrency figure, each run in a workerd of its own through
 * Miniflare, as the upload worker runs: `read-body` (`bench/control_worker.js`) reads each
 * body to its end and answers 201, with no upstream call; `sdk` is the bare three calls on
 * `@aws-sdk/client-connectparticipant` (`bench/bundle/sdk_worker.ts`), none of this
 * project's code.
 */
export type ControlWorker = "read-body" | "sdk";

/**
 * Starts a control worker against the stack.
 *
 * @param kind Which control.
 * @param stack The local stack (the SDK worker calls its Participant Service).
 * @returns The worker; `runtime` is `workerd`.
 */
export async function launchControlWorker(
  kind: ControlWorker,
  stack: BenchStack,
): Promise<BenchWorker> {
  let script = new URL("./control_worker.js", import.meta.url).pathname;
  let dir: string | undefined;
  if (kind === "sdk") {
    // Inside the checkout (bench/out is ignored): Miniflare loads modules from below its
    // working directory only.
    const out = new URL("./out/", import.meta.url).pathname;
    await Deno.mkdir(out, { recursive: true });
    dir = await Deno.makeTempDir({ dir: out, prefix: "sdk-worker-" });
    script = `${dir}/sdk_worker.js`;
    await bundleForBrowser(new URL("./bundle/sdk_worker.ts", import.meta.url).pathname, script);
  }
  const vars: Record<string, string> = kind === "sdk"
    ? { AWS_REGION: "us-east-1", PARTICIPANT_ENDPOINT: stack.participantUrl }
    : {};
  const running = await runInMiniflare(script, vars, () => {});
  return {
    runtime: "workerd",
    url: running.url,
    pid: running.pid,
    workerPids: () => [running.pid],
    async close() {
      await running.close();
      if (dir) await Deno.remove(dir, { recursive: true });
    },
  };
}
