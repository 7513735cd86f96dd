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

/** A running worker. */
export interface BenchWorker {
  runtime: Runtime;
  /** Its base URL. */
  url: string;
  /** The process that was launched. */
  pid: number;
  /**
   * The processes that run the worker's code, whose memory is the worker's: every `workerd`
   * under the launched process, or the Deno server itself.
   */
  workerPids(): number[];
  /** Stops it. */
  close(): Promise<void>;
}

/**
 * Starts the upload worker in a runtime, configured for a stack: its Participant Service,
 * its S3 (the only upload host allowed) and a size limit.
 *
 * @param runtime `workerd` (through wrangler) or `deno`.
 * @param stack The stack it calls.
 * @param maxAttachmentBytes The size limit.
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
): Promise<BenchWorker> {
  const running = await startWorker({
    runtime,
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3PublicUrl).host],
    maxAttachmentBytes,
  });
  return {
    runtime,
    url: running.url,
    pid: running.pid,
    workerPids: () =>
      runtime === "workerd" ? findProcesses(running.pid, "workerd") : findProcesses(
        running.pid,
        "deno",
      ).slice(-1),
    close: () => running.close(),
  };
}
