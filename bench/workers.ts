/**
 * The upload worker under test, in workerd or in Deno, pointed at a benchmark stack.
 *
 * @module
 */

import { startWorker } from "../tests/_worker.ts";
import type { BenchStack } from "./stack.ts";
import { findProcesses } from "./procs.ts";

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
   * The processes whose memory and CPU are the worker's: the serving process, and for
   * workerd every other workerd below it.
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
): Promise<BenchWorker> {
  const running = await startWorker({
    runtime,
    launcher,
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3PublicUrl).host],
    maxAttachmentBytes,
  });
  return {
    runtime,
    url: running.url,
    pid: running.pid,
    workerPids: () => runtime === "workerd" ? findProcesses(running.pid, "workerd") : [running.pid],
    close: () => running.close(),
  };
}
