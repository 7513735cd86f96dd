/**
 * Starts and drives the benchmark's local stack process (`bench/stack_server.ts`).
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/client.ts";
import { type ChatSession, openChat } from "../local/chat.ts";
import type { StackInfo, StackRequest, StoredObject } from "./stack_server.ts";

/** A running stack process. */
export interface BenchStack extends StackInfo {
  /** The process id of the stack (local S3 and Participant Service). */
  pid: number;
  /** A Participant Service client for the stack (through the proxy when there is latency). */
  client: ParticipantClient;
  /** Starts a chat and returns its tokens. */
  openChat(): Promise<ChatSession>;
  /** The stored object of an attachment: size, ETag, completion. */
  stored(attachmentId: string): Promise<StoredObject>;
  /**
   * The service's handling times (ms) by operation since the last ask, such as
   * `{StartAttachmentUpload: [3, 4], CompleteAttachmentUpload: [9]}`.
   */
  timings(): Promise<Record<string, number[]>>;
  /** Deletes an attachment's object, to keep the disk from filling up over a long run. */
  remove(attachmentId: string): Promise<void>;
  /** Stops the process. */
  close(): Promise<void>;
}

const STACK_ENTRY = new URL("./stack_server.ts", import.meta.url);

/**
 * Starts a local stack in a process of its own and waits until it answers.
 *
 * @param request The size limit and the added latency.
 * @param cpuProfileDir Where to write a CPU profile of the stack process when it stops.
 * @returns The running stack.
 *
 * @example
 * ```ts ignore
 * import { launchStack } from "./stack.ts";
 * const stack = await launchStack({ maxAttachmentBytes: 2 ** 30 });
 * const chat = await stack.openChat();
 * await stack.close();
 * ```
 */
export async function launchStack(
  request: StackRequest,
  cpuProfileDir?: string,
): Promise<BenchStack> {
  const profile = cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...profile, STACK_ENTRY.pathname, JSON.stringify(request)],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error("the stack process ended before it was ready");
    buffered += value;
  }
  const info = JSON.parse(buffered.slice(0, buffered.indexOf("\n"))) as StackInfo;
  // Keep draining its output so that it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  const client = createParticipantClient({ endpoint: info.participantUrl });
  const control = async (path: string, attachmentId: string) => {
    const response = await fetch(info.controlUrl + path, {
      method: "POST",
      body: JSON.stringify({ attachmentId }),
    });
    return await response.json();
  };
  return {
    ...info,
    pid: child.pid,
    client,
    openChat: () => openChat(client),
    stored: (attachmentId) => control("/verify", attachmentId) as Promise<StoredObject>,
    timings: async () => {
      const response = await fetch(info.controlUrl + "/timings", { method: "POST" });
      return await response.json();
    },
    remove: async (attachmentId) => {
      await control("/delete", attachmentId);
    },
    async close() {
      await child.stdin.close().catch(() => {});
      const timer = setTimeout(() => {
        try {
          child.kill("SIGKILL");
        } catch { /* gone */ }
      }, 5000);
      await child.status;
      clearTimeout(timer);
    },
  };
}
