/**
 * The local Participant Service as a process of its own for the benchmark, in front of the
 * local S3 that runs in another (`s3_server.ts`), so that neither shares a thread with the
 * other or with the benchmark's client. Optionally behind two TCP proxies that add a
 * round-trip time (the service and the pre-signed S3 URLs both go through them).
 *
 * Run: `deno run -A bench/stack_server.ts '{"s3Url":"http://127.0.0.1:4568","bucket":"b",
 * "maxAttachmentBytes":1073741824,"latencyMs":80}'`.
 * Prints one JSON line ({@link StackInfo}) once ready; stops on SIGTERM or when stdin closes.
 *
 * A control server answers `POST /verify` and `POST /delete` with `{"attachmentId": "..."}`:
 * the stored object's size and ETag (MD5) and whether the attachment was completed; and
 * `POST /timings`: the service's handling time of each call by operation, in ms, since the
 * last ask; and `POST /connections`: the connections each proxy has accepted so far
 * (`{"service": n, "s3": n}`); and `POST /cut`: cuts the proxies' open connections.
 *
 * @module
 */

import { createLocalService } from "../local/service.ts";
import { startProxy, type TcpProxy } from "../testing/proxy.ts";
import type { LinkShape } from "../testing/link.ts";
import { deleteObject, headObject } from "../local/presign.ts";
import { LOCAL_S3_CREDENTIALS } from "../local/s3.ts";
import { stopWith } from "./child.ts";

/** What the stack process is asked for. */
export interface StackRequest {
  /** The local S3's base URL. */
  s3Url: string;
  /** The attachments bucket. */
  bucket: string;
  /** The largest attachment accepted. */
  maxAttachmentBytes: number;
  /** Round-trip time added in front of the service and S3; `0` for none. @default {0} */
  latencyMs?: number;
  /** The link's bandwidth and set-up cost, with `latencyMs` (`testing/link.ts`). */
  link?: LinkShape;
  /** Origins whose pages may use the bucket (its CORS rule), for browser clients. */
  s3CorsOrigins?: string[];
}

/** What the stack process prints once ready. */
export interface StackInfo {
  /** Where clients call the Participant Service (through the proxy when there is latency). */
  participantUrl: string;
  /** The S3 base URL that pre-signed URLs name (the proxy when there is latency). */
  s3PublicUrl: string;
  /** The local S3 itself. */
  s3Url: string;
  /** The control server. */
  controlUrl: string;
  /** The round-trip time added. */
  latencyMs: number;
}

/** What `POST /verify` answers. */
export interface StoredObject {
  /** Whether the local service knows the attachment. */
  found: boolean;
  /** Whether CompleteAttachmentUpload succeeded for it. */
  completed: boolean;
  /** The object's size in S3, or -1 when there is none. */
  size: number;
  /** The object's ETag without quotes (the MD5 of its bytes), or "" when there is none. */
  etag: string;
}

if (import.meta.main) {
  const request = JSON.parse(Deno.args[0] ?? "{}") as StackRequest;
  const latencyMs = request.latencyMs ?? 0;
  // Per-operation service times, from the service's request log: `... <Operation> 200 12ms`.
  const timings = new Map<string, number[]>();
  const service = createLocalService({
    s3: { url: request.s3Url, bucket: request.bucket, ...LOCAL_S3_CREDENTIALS },
    log: (line) => {
      const match = /^\S+ \S+ (\w+) (\d{3}).* (\d+)ms$/.exec(line);
      if (!match) return;
      const list = timings.get(match[1]) ?? [];
      list.push(Number(match[3]));
      timings.set(match[1], list);
    },
    maxAttachmentBytes: request.maxAttachmentBytes,
    maxAttachmentsPerChat: 1_000_000,
    uploadUrlTtlSeconds: 3600,
  });
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    service.app.fetch,
  );
  const directUrl = `http://127.0.0.1:${server.addr.port}`;
  const proxies: TcpProxy[] = [];
  let participantUrl = directUrl;
  let s3PublicUrl = request.s3Url;
  if (latencyMs > 0) {
    const link = request.link;
    const serviceProxy = startProxy({ target: hostPort(directUrl), latencyMs, link });
    const s3Proxy = startProxy({ target: hostPort(request.s3Url), latencyMs, link });
    proxies.push(serviceProxy, s3Proxy);
    participantUrl = serviceProxy.url;
    s3PublicUrl = s3Proxy.url;
    service.s3.publicUrl = s3Proxy.url;
  }
  const keyOf = (attachmentId: string) => {
    for (const chat of service.store.chats.values()) {
      const attachment = chat.attachments.get(attachmentId);
      if (attachment) return attachment;
    }
    return undefined;
  };
  const control = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/timings") {
        const answer = Object.fromEntries(timings);
        timings.clear();
        return Response.json(answer);
      }
      if (path === "/cut") {
        // No fault queued (count 0): only the open connections are cut, as a server closes
        // idle ones, so that the next request through the proxy opens a new connection.
        for (const proxy of proxies) proxy.inject({ kind: "stall" }, 0);
        return Response.json({ cut: true });
      }
      if (path === "/connections") {
        const [service, s3] = proxies.map((p) => p.stats.connections);
        return Response.json({ service: service ?? 0, s3: s3 ?? 0 });
      }
      const { attachmentId } = await req.json() as { attachmentId: string };
      const attachment = keyOf(attachmentId);
      if (!attachment) {
        return Response.json({ found: false, completed: false, size: -1, etag: "" });
      }
      if (path === "/delete") {
        const deleted = await deleteObject(service.s3, attachment.key).then(
          () => true,
          () => false,
        );
        return Response.json({ deleted });
      }
      const head = await headObject(service.s3, attachment.key).catch(() => undefined);
      const stored: StoredObject = {
        found: true,
        completed: attachment.completed,
        size: head?.size ?? -1,
        etag: head?.etag ?? "",
      };
      return Response.json(stored);
    },
  );
  const info: StackInfo = {
    participantUrl,
    s3PublicUrl,
    s3Url: request.s3Url,
    controlUrl: `http://127.0.0.1:${control.addr.port}`,
    latencyMs,
  };
  console.log(JSON.stringify(info));

  stopWith(async () => {
    await Promise.allSettled(proxies.map((p) => p.close()));
    await control.shutdown();
    await server.shutdown();
  });
}

function hostPort(url: string): { hostname: string; port: number } {
  const { hostname, port } = new URL(url);
  return { hostname, port: Number(port) };
}
