/**
 * The rig most worker tests stand on: the local stack, a recording S3 proxy that every
 * pre-signed URL points at, the worker in one runtime (allowed to upload to the proxy only)
 * and an open chat.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { listAttachments } from "../src/mod.ts";
import type { SendAttachmentOptions } from "../src/_core/send.ts";
import { openChat } from "../local/chat.ts";
import { headObject } from "../local/presign.ts";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../local/stack.ts";
import { startProxy, type TcpProxy } from "../testing/proxy.ts";
import { type StartedWorker, startWorker, type WorkerRuntime } from "../testing/worker.ts";
import { workerFetch } from "./_worker_contract.ts";

/** What {@link startRig} starts: the local stack, an S3 proxy and the worker in one runtime. */
export interface Rig {
  stack: LocalStack;
  /** The proxy every pre-signed URL goes through (it records request heads). */
  proxy: TcpProxy;
  worker: StartedWorker;
  client: ParticipantClient;
  /** A connected chat participant's ConnectionToken. */
  token: string;
  /** Participant Service calls so far, by operation. */
  calls: Record<string, number>;
  /** `PUT /attachments/{name}` through the worker, with the rig's token. */
  upload(
    name: string,
    body: Uint8Array<ArrayBuffer>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }>;
  /** The attachments in a chat's transcript (the rig's chat by default). */
  attachments(token?: string): Promise<{ id: string; name: string }[]>;
  /**
   * How many attachments the service started have their full bytes in S3 (the local S3 may
   * keep an empty object behind a cut upload; real S3 keeps nothing).
   */
  storedObjects(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link startRig}. */
export interface RigOptions {
  /** Pre-signed URL lifetime. @default {300} */
  uploadUrlTtlSeconds?: number;
  /** Worker variables. */
  vars?: Record<string, string>;
  /** `CORS_ORIGINS`. */
  corsOrigins?: string[];
  /** Open the worker's inspector, for `worker.collectGarbage()`. @default {false} */
  inspect?: boolean;
  /** Completed attachments one chat may hold. @default {the local service's (100)} */
  maxAttachmentsPerChat?: number;
  /** The local service's scanner. @default {off} */
  scanning?: { delayMs: number };
}

/** The local stack with every pre-signed URL behind a proxy, and a connected chat. */
export interface ProxiedStack {
  stack: LocalStack;
  /** The proxy every pre-signed URL goes through, for S3 faults. */
  proxy: TcpProxy;
  client: ParticipantClient;
  /** A connected chat participant's ConnectionToken. */
  connectionToken: string;
  /** Participant Service calls so far, by operation. */
  calls: Record<string, number>;
  /** The upload-URL rule that allows the proxy only. */
  isProxyUrl(url: URL): boolean;
  /** What `sendAttachment` takes to send a PDF into the chat, through the proxy only. */
  sendOptions(name: string, body: Uint8Array<ArrayBuffer>): SendAttachmentOptions;
  /** The attachments in a chat's transcript (the stack's chat by default). */
  attachments(token?: string): Promise<{ id: string; name: string }[]>;
  close(): Promise<void>;
}

/** What {@link withChat} hands its function: the local stack and an open chat. */
export interface LocalChat {
  stack: LocalStack;
  /** The Participant Service's base URL. */
  endpoint: string;
  client: ParticipantClient;
  /** The chat participant's ConnectionToken. */
  token: string;
  contactId: string;
}

/**
 * Runs `fn` with the local stack and an open chat, and stops the stack after.
 *
 * @param fn The test.
 * @param options The stack's options (limits, scanning, ...).
 */
export async function withChat(
  fn: (chat: LocalChat) => Promise<void>,
  options: Omit<LocalStackOptions, "s3Port" | "participantPort"> = {},
): Promise<void> {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, ...options });
  try {
    const endpoint = stack.participantUrl;
    const client = createParticipantClient({ endpoint });
    const chat = await openChat(client);
    await fn({ stack, endpoint, client, token: chat.connectionToken, contactId: chat.contactId });
  } finally {
    await stack.close();
  }
}

/**
 * Starts the local stack, a proxy that every pre-signed URL points at, and opens a chat.
 *
 * @param options URL lifetime, the chat's limit, and whether the proxy records request heads.
 * @returns The stack, the proxy and the chat.
 */
export async function startProxiedStack(
  options: Pick<RigOptions, "uploadUrlTtlSeconds" | "maxAttachmentsPerChat" | "scanning"> & {
    recordHeads?: boolean;
  } = {},
): Promise<ProxiedStack> {
  const calls: Record<string, number> = {};
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    uploadUrlTtlSeconds: options.uploadUrlTtlSeconds,
    maxAttachmentsPerChat: options.maxAttachmentsPerChat,
    scanning: options.scanning,
    log: (line) => {
      const operation = line.split(" ")[2];
      if (/^[A-Z]\w+$/.test(operation ?? "")) calls[operation] = (calls[operation] ?? 0) + 1;
    },
  });
  const proxy = startProxy({
    target: { hostname: "127.0.0.1", port: Number(new URL(stack.s3.url).port) },
    recordHeads: options.recordHeads,
  });
  stack.service.s3.publicUrl = proxy.url;
  const close = async () => {
    await proxy.close();
    await stack.close();
  };
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const isProxyUrl = (url: URL) => url.host === new URL(proxy.url).host;
    return {
      stack,
      proxy,
      client,
      connectionToken,
      calls,
      isProxyUrl,
      sendOptions: (name, body) => ({
        client,
        connectionToken,
        name,
        contentType: "application/pdf",
        size: body.length,
        body,
        isUploadUrlAllowed: isProxyUrl,
      }),
      async attachments(chatToken = connectionToken) {
        const listed = await listAttachments({ client, connectionToken: chatToken });
        return listed.map((a) => ({ id: a.attachmentId, name: a.name }));
      },
      close,
    };
  } catch (error) {
    await close();
    throw error;
  }
}

/**
 * Starts the local stack, a recording S3 proxy that every pre-signed URL points at, and the
 * worker (allowed to upload to the proxy only), and opens a chat.
 *
 * @param runtime Where the worker runs.
 * @param options URL lifetime and worker variables.
 */
export async function startRig(runtime: WorkerRuntime, options: RigOptions = {}): Promise<Rig> {
  const proxied = await startProxiedStack({ ...options, recordHeads: true });
  const { stack, proxy, client, connectionToken: token, calls, attachments } = proxied;
  let worker: StartedWorker;
  try {
    worker = await startWorker({
      runtime,
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(proxy.url).host],
      corsOrigins: options.corsOrigins,
      vars: options.vars,
      inspect: options.inspect,
    });
  } catch (error) {
    await proxied.close();
    throw error;
  }
  return {
    stack,
    proxy,
    worker,
    client,
    token,
    calls,
    async upload(name, body, headers = {}) {
      const response = await workerFetch(`${worker.url}/attachments/${encodeURIComponent(name)}`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token, ...headers },
        body,
      });
      const json = await response.json().catch(() => ({}));
      return { status: response.status, headers: response.headers, json };
    },
    attachments,
    async storedObjects() {
      const target = { ...stack.service.s3, publicUrl: undefined };
      let count = 0;
      for (const attachment of stack.service.store.attachments()) {
        if ((await headObject(target, attachment.key))?.size === attachment.size) count++;
      }
      return count;
    },
    async close() {
      await worker.close();
      await proxied.close();
    },
  };
}
