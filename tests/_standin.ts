/**
 * Stand-ins for the security tests: a Participant Service and an S3 that answer whatever a
 * test scripts (redirects, stalls, hostile headers), and a foreign host that counts every
 * connection it accepts. All on real sockets of 127.0.0.1, free ports. They take no rules
 * from `src/` or `worker/`: each answer is written here, as the real services' documentation
 * describes it.
 *
 * @module
 */

import { type StartedWorker, startWorker, type WorkerRuntime } from "../testing/worker.ts";

/** A host the worker must never reach: it counts the connections it accepts. */
export interface ForeignHost {
  /** Its base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** Connections accepted so far. */
  readonly connections: number;
  close(): Promise<void>;
}

/**
 * Listens on a free port and counts every TCP connection it accepts; each is answered
 * `200 OK` (so that a client that followed a redirect here would see success) and closed.
 *
 * @returns The host.
 */
export function startForeignHost(): ForeignHost {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let connections = 0;
  const open = new Set<Deno.Conn>();
  const serving = (async () => {
    for await (const conn of listener) {
      connections++;
      open.add(conn);
      (async () => {
        try {
          await conn.read(new Uint8Array(64 * 1024));
          await conn.write(
            new TextEncoder().encode(
              "HTTP/1.1 200 OK\r\ncontent-type: text/html\r\ncontent-length: 14\r\n" +
                "connection: close\r\n\r\n<h1>owned</h1>",
            ),
          );
        } catch { /* the peer went away */ }
        open.delete(conn);
        try {
          conn.close();
        } catch { /* already closed */ }
      })();
    }
  })().catch(() => {});
  return {
    url: `http://127.0.0.1:${(listener.addr as Deno.NetAddr).port}`,
    get connections() {
      return connections;
    },
    async close() {
      listener.close();
      for (const conn of open) {
        try {
          conn.close();
        } catch { /* already closed */ }
      }
      await serving;
    },
  };
}

/** One request the stand-in S3 received. */
export interface S3Request {
  method: string;
  /** The path, such as `/bucket/<id>`. */
  path: string;
  headers: Headers;
}

/** What the stand-in S3 does with a request; `undefined` falls back to a plain S3. */
export type S3Script = (
  request: Request,
) => Response | undefined | Promise<Response | undefined>;

/** A stand-in S3: stores `PUT` bodies, serves them back on `GET`, unless scripted otherwise. */
export interface StandInS3 {
  url: string;
  /** `host:port`, for `UPLOAD_HOSTS`. */
  host: string;
  /** Requests so far. */
  readonly requests: S3Request[];
  /** Objects stored so far, by path. */
  readonly objects: Map<string, { bytes: Uint8Array; headers: Headers }>;
  /** Answers the next requests (until replaced); `undefined` restores plain S3. */
  script: S3Script | undefined;
  close(): Promise<void>;
}

/**
 * Starts the stand-in S3. Without a script it answers a `PUT` with 200 once it has read the
 * whole body (and keeps the object with its `Content-Type` and `Content-Disposition`), and a
 * `GET` with the object and those headers.
 *
 * @returns The stand-in.
 */
export function startStandInS3(): StandInS3 {
  const requests: S3Request[] = [];
  const objects = new Map<string, { bytes: Uint8Array; headers: Headers }>();
  const s3: StandInS3 = {
    url: "",
    host: "",
    requests,
    objects,
    script: undefined,
    close: () => server.shutdown(),
  };
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const path = new URL(request.url).pathname;
      requests.push({ method: request.method, path, headers: request.headers });
      const scripted = await s3.script?.(request);
      if (scripted) return scripted;
      if (request.method === "PUT") {
        const bytes = new Uint8Array(await request.arrayBuffer());
        const headers = new Headers();
        for (const name of ["content-type", "content-disposition"]) {
          const value = request.headers.get(name);
          if (value) headers.set(name, value);
        }
        objects.set(path, { bytes, headers });
        return new Response(null, { status: 200, headers: { etag: '"standin"' } });
      }
      const object = objects.get(path);
      if (!object) {
        return new Response("<Error><Code>NoSuchKey</Code></Error>", {
          status: 404,
          headers: { "content-type": "application/xml" },
        });
      }
      return new Response(object.bytes.slice(), { headers: object.headers });
    },
  );
  s3.url = `http://127.0.0.1:${server.addr.port}`;
  s3.host = `127.0.0.1:${server.addr.port}`;
  return s3;
}

/** The operations of the stand-in service. */
export type Operation =
  | "StartAttachmentUpload"
  | "CompleteAttachmentUpload"
  | "GetAttachment";

/** A stand-in Participant Service. */
export interface StandInService {
  url: string;
  /** Where the pre-signed URLs it hands out point: the stand-in S3 unless changed. */
  urlBase: string;
  /** Calls received so far, by operation (tokens that were refused included). */
  readonly calls: Record<Operation, number>;
  /** The most calls of an operation that were in progress at once. */
  readonly peak: Record<Operation, number>;
  /** Makes a token the service accepts (base64url, as the local service's are). */
  newToken(): string;
  /** Answers the next `count` calls (of any operation) with 429 ThrottlingException. */
  throttle(count: number): void;
  /**
   * Holds every StartAttachmentUpload from now on until the returned function is called.
   * @returns Releases them.
   */
  hold(): () => void;
  /** Makes an attachment the stand-in S3 serves at `/bucket/<id>`, and returns its id. */
  addAttachment(size: number): string;
  close(): Promise<void>;
}

/**
 * Starts the stand-in Participant Service: the three attachment calls as the API reference
 * describes them (token in `X-Amz-Bearer`; errors as status, `X-Amzn-ErrorType` and
 * `{"Message"}`). The upload URL points at `s3`; the same ClientToken gets the same
 * attachment.
 *
 * @param s3 The stand-in S3 the URLs point at.
 * @returns The stand-in.
 */
export function startStandInService(s3: StandInS3): StandInService {
  const tokens = new Set<string>();
  const byClientToken = new Map<string, string>();
  const sizes = new Map<string, number>();
  const calls: Record<Operation, number> = {
    StartAttachmentUpload: 0,
    CompleteAttachmentUpload: 0,
    GetAttachment: 0,
  };
  const running: Record<Operation, number> = { ...calls };
  const peak: Record<Operation, number> = { ...calls };
  let throttled = 0;
  let held: Promise<void> | undefined;

  const error = (status: number, name: string, message: string) =>
    new Response(JSON.stringify({ Message: message }), {
      status,
      headers: {
        "content-type": "application/json",
        "x-amzn-errortype": name,
        "x-amzn-requestid": crypto.randomUUID(),
      },
    });
  const operations: Record<string, Operation> = {
    "/participant/start-attachment-upload": "StartAttachmentUpload",
    "/participant/complete-attachment-upload": "CompleteAttachmentUpload",
    "/participant/attachment": "GetAttachment",
  };

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => {
      const operation = operations[new URL(request.url).pathname];
      if (!operation || request.method !== "POST") return error(404, "NotFound", "no route");
      calls[operation]++;
      running[operation]++;
      peak[operation] = Math.max(peak[operation], running[operation]);
      try {
        const body = await request.json();
        if (operation === "StartAttachmentUpload" && held) await held;
        if (throttled > 0) {
          throttled--;
          return error(429, "ThrottlingException", "Rate exceeded");
        }
        if (!tokens.has(request.headers.get("x-amz-bearer") ?? "")) {
          return error(403, "AccessDeniedException", "the token is not valid");
        }
        if (operation === "StartAttachmentUpload") {
          const id = byClientToken.get(body.ClientToken) ?? crypto.randomUUID();
          byClientToken.set(body.ClientToken, id);
          sizes.set(id, body.AttachmentSizeInBytes);
          return Response.json({
            AttachmentId: id,
            UploadMetadata: {
              Url: `${service.urlBase}/bucket/${id}?X-Amz-Signature=standin`,
              UrlExpiry: new Date(Date.now() + 300_000).toISOString(),
              HeadersToInclude: {
                "Content-Type": body.ContentType,
                // Header values are bytes: the name as plain ASCII, the rest as `_`.
                "Content-Disposition": `attachment; filename="${
                  String(body.AttachmentName).replace(/[^\x20-\x7e]|["\\]/g, "_")
                }"`,
              },
            },
          });
        }
        if (operation === "CompleteAttachmentUpload") return Response.json({});
        const id = body.AttachmentId;
        if (!sizes.has(id)) return error(400, "ValidationException", "no such attachment");
        return Response.json({
          Url: `${service.urlBase}/bucket/${id}?X-Amz-Signature=standin`,
          UrlExpiry: new Date(Date.now() + 300_000).toISOString(),
          AttachmentSizeInBytes: sizes.get(id),
        });
      } finally {
        running[operation]--;
      }
    },
  );
  const service: StandInService = {
    url: `http://127.0.0.1:${server.addr.port}`,
    urlBase: s3.url,
    calls,
    peak,
    newToken() {
      const bytes = crypto.getRandomValues(new Uint8Array(32));
      const token = btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
        .replace(/=+$/, "");
      tokens.add(token);
      return token;
    },
    throttle(count) {
      throttled = count;
    },
    hold() {
      let release = () => {};
      held = new Promise<void>((resolve) => (release = resolve));
      return () => {
        held = undefined;
        release();
      };
    },
    addAttachment(size) {
      const id = crypto.randomUUID();
      sizes.set(id, size);
      return id;
    },
    close: () => server.shutdown(),
  };
  return service;
}

/** The stand-ins and a worker in front of them. */
export interface StandIns {
  s3: StandInS3;
  service: StandInService;
  foreign: ForeignHost;
  worker: StartedWorker;
  /** A token the service accepts. */
  token: string;
  close(): Promise<void>;
}

/**
 * Starts the stand-in S3 and service, a foreign host, and the worker in a runtime, allowed to
 * reach the stand-in S3 only.
 *
 * @param runtime Where the worker runs.
 * @param vars Worker variables.
 * @returns Everything, and how to stop it.
 */
export async function startStandIns(
  runtime: WorkerRuntime,
  vars: Record<string, string> = {},
): Promise<StandIns> {
  const s3 = startStandInS3();
  const service = startStandInService(s3);
  const foreign = startForeignHost();
  const stop = async () => {
    await s3.close();
    await service.close();
    await foreign.close();
  };
  let worker: StartedWorker;
  try {
    worker = await startWorker({
      runtime,
      participantUrl: service.url,
      uploadHosts: [s3.host],
      vars,
    });
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    s3,
    service,
    foreign,
    worker,
    token: service.newToken(),
    async close() {
      await worker.close();
      await stop();
    },
  };
}

/**
 * The JSON request log line the worker printed for `path`, parsed: the first one among the
 * lines from `after` on (an index into `worker.logs`).
 */
export async function loggedRequest(
  worker: StartedWorker,
  path: string,
  after = 0,
): Promise<{ status: number; code?: string; ms: number; path: string }> {
  const wanted = `"path":${JSON.stringify(path)}`;
  const line = await worker.waitForLog((l) =>
    l.includes(wanted) && worker.logs.lastIndexOf(l) >= after
  );
  return JSON.parse(line.slice(line.indexOf("{")));
}
