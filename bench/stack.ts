/**
 * Starts and drives the benchmark's local stack: the local S3 (`bench/s3_server.ts`) and
 * the local Participant Service (`bench/stack_server.ts`), each a process of its own.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { type ChatSession, openChat } from "../local/chat.ts";
import type { StackInfo, StackRequest, StoredObject } from "./stack_server.ts";

/** A running stack. */
export interface BenchStack extends StackInfo {
  /** The process id of the Participant Service. */
  servicePid: number;
  /** The process id of the local S3. */
  s3Pid: number;
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
  /** The connections each proxy has accepted so far (0 without latency: no proxies). */
  connections(): Promise<{ service: number; s3: number }>;
  /** Cuts the proxies' open connections: the next calls through them open new ones. */
  cutConnections(): Promise<void>;
  /** Stops both processes. */
  close(): Promise<void>;
}

/** A benchmark child process that printed its JSON description. */
interface JsonProcess<T> {
  info: T;
  pid: number;
  close(): Promise<void>;
}

/**
 * Starts the local S3 and the local Participant Service, each in a process of its own, and
 * waits until they answer.
 *
 * @param request The size limit, the added latency and link shape, and the bucket's CORS
 * origins.
 * @param cpuProfileDir Where to write CPU profiles of both processes when they stop.
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
  request: Omit<StackRequest, "s3Url" | "bucket">,
  cpuProfileDir?: string,
): Promise<BenchStack> {
  const s3 = await spawnJson<{ url: string; bucket: string }>(
    "./s3_server.ts",
    request.s3CorsOrigins?.length ? [request.s3CorsOrigins.join(",")] : [],
    cpuProfileDir && `${cpuProfileDir}/s3`,
  );
  let service: JsonProcess<StackInfo>;
  try {
    service = await spawnJson<StackInfo>(
      "./stack_server.ts",
      [JSON.stringify({ ...request, s3Url: s3.info.url, bucket: s3.info.bucket })],
      cpuProfileDir && `${cpuProfileDir}/service`,
    );
  } catch (error) {
    await s3.close();
    throw error;
  }
  const info = service.info;
  const client = createParticipantClient({ endpoint: info.participantUrl });
  const control = async (path: string, attachmentId?: string) => {
    const response = await fetch(info.controlUrl + path, {
      method: "POST",
      body: JSON.stringify({ attachmentId }),
    });
    return await response.json();
  };
  return {
    ...info,
    servicePid: service.pid,
    s3Pid: s3.pid,
    client,
    openChat: () => openChat(client),
    stored: (attachmentId) => control("/verify", attachmentId) as Promise<StoredObject>,
    timings: () => control("/timings"),
    connections: () => control("/connections"),
    cutConnections: async () => {
      await control("/cut");
    },
    remove: async (attachmentId) => {
      await control("/delete", attachmentId);
    },
    async close() {
      await service.close();
      await s3.close();
    },
  };
}

/** Spawns `deno run -A <entry> ...args` and reads the JSON line it prints once ready. */
async function spawnJson<T>(
  entry: string,
  args: string[],
  cpuProfileDir?: string,
): Promise<JsonProcess<T>> {
  const profile = cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir}`] : [];
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", ...profile, new URL(entry, import.meta.url).pathname, ...args],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
    env: { NO_COLOR: "1" },
  }).spawn();
  const reader = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let buffered = "";
  while (!buffered.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${entry} ended before it was ready`);
    buffered += value;
  }
  const info = JSON.parse(buffered.slice(0, buffered.indexOf("\n"))) as T;
  // Keep draining its output so that it never blocks on a full pipe.
  (async () => {
    while (!(await reader.read()).done) { /* drain */ }
  })().catch(() => {});
  return {
    info,
    pid: child.pid,
    async close() {
      // Closing stdin asks it to stop (and write its profile); SIGKILL if it lingers.
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
