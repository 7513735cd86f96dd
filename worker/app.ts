/**
 * The upload worker: one Hono app, free of runtime specifics, that the workerd and Deno entry
 * points serve.
 *
 * @module
 */

import { Hono } from "hono/tiny";
import type { Context } from "hono";
import { cors } from "hono/cors";
import type { components } from "../generated/worker.ts";
import openapi from "../generated/worker-openapi.json" with { type: "json" };
import { createParticipantClient, type ParticipantClient } from "../src/client.ts";
import type { RetryOptions } from "../src/retry.ts";
import { ATTACHMENT_TYPES, contentTypeForName, mimeEssence, nameProblem } from "../src/limits.ts";
import { AttachmentError, sendAttachment } from "../src/send.ts";
import type { WorkerConfig } from "./config.ts";
import { isAllowedHost } from "./hosts.ts";
import {
  attachmentProblem,
  participantFailure,
  type ProblemCode,
  type ProblemExtras,
  problemResponse,
} from "./problem.ts";

type Schemas = components["schemas"];

/** One line per request, for logs; never holds a token or a pre-signed URL. */
export interface RequestLog {
  /** The HTTP method. */
  method: string;
  /** The request path (the attachment name or id included, the query left out). */
  path: string;
  /** The answer's status. */
  status: number;
  /** The problem code, for error answers. */
  code?: ProblemCode;
  /** The attachment id, where one was made or asked for. */
  attachmentId?: string;
  /** The declared body size of an upload. */
  bytes?: number;
  /** Time from the request to the answer's headers, in milliseconds. */
  ms: number;
}

/** Options of {@link createApp}. */
export interface AppOptions {
  /** Told one {@link RequestLog} per request. */
  log?: (entry: RequestLog) => void;
  /** The `fetch` for Participant Service calls. @default {globalThis.fetch} */
  fetch?: typeof fetch;
  /** How Participant Service calls are tried again. @default {the client's defaults} */
  retry?: RetryOptions | false;
}

type Env = { Variables: { code?: ProblemCode; attachmentId?: string; bytes?: number } };

/** The app {@link createApp} makes: a Hono app; serve its `fetch`. */
export type WorkerApp = Hono<Env>;

/** Content types that say nothing about the file: the name's extension decides instead. */
const UNTYPED = new Set(["", "application/octet-stream", "application/x-www-form-urlencoded"]);

const TOKEN_MAX = 1000;

/**
 * Creates the upload worker's app.
 *
 * - `PUT /attachments/{name}`: streams the body into the chat (start, PUT to S3, complete).
 * - `GET /attachments/{attachmentId}`: streams the attachment back; `Range` passes through.
 * - `GET /healthz` and `GET /openapi.json`.
 *
 * @param config The configuration, from {@link parseConfig}.
 * @param options Logging, and the `fetch` and retries for Participant Service calls.
 * @returns The app; serve `app.fetch`.
 *
 * @example Serve it under Deno
 * ```ts ignore
 * import { createApp } from "./app.ts";
 * import { parseConfig } from "./config.ts";
 * const app = createApp(parseConfig(Deno.env.toObject()));
 * Deno.serve({ port: 8787 }, app.fetch);
 * ```
 */
export function createApp(config: WorkerConfig, options: AppOptions = {}): WorkerApp {
  const client = createParticipantClient({
    endpoint: config.participantEndpoint,
    fetch: options.fetch,
    retry: options.retry,
  });
  const app = new Hono<Env>();

  app.use("*", async (c, next) => {
    const started = Date.now();
    await next();
    options.log?.({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      ...(c.get("code") ? { code: c.get("code") } : {}),
      ...(c.get("attachmentId") ? { attachmentId: c.get("attachmentId") } : {}),
      ...(c.get("bytes") !== undefined ? { bytes: c.get("bytes") } : {}),
      ms: Date.now() - started,
    });
  });

  if (config.corsOrigins.length > 0) {
    app.use(
      "*",
      cors({
        origin: config.corsOrigins.includes("*") ? "*" : [...config.corsOrigins],
        allowMethods: ["GET", "PUT", "HEAD", "OPTIONS"],
        allowHeaders: [
          "X-Amz-Bearer",
          "Authorization",
          "Content-Type",
          "Idempotency-Key",
          "Range",
        ],
        exposeHeaders: [
          "Location",
          "Retry-After",
          "Content-Disposition",
          "Content-Range",
          "Content-Length",
          "Accept-Ranges",
        ],
        maxAge: 600,
      }),
    );
  }

  app.get("/healthz", (c) => c.json({ status: "ok" } satisfies Schemas["Health"]));
  app.get("/openapi.json", (c) => c.json(openapi));

  app.put("/attachments", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/:name", (c) => upload(c, config, client));
  app.get("/attachments/:id", (c) => download(c, config, client));

  app.notFound((c) => fail(c, "not_found", `nothing at ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    console.error("internal error:", error instanceof Error ? error.stack : String(error));
    return fail(c, "internal_error", "the worker failed to handle the request");
  });
  return app;
}

const NO_NAME = "put the file name at the end of the URL, such as /attachments/report.pdf " +
  "(curl -T report.pdf adds it when the URL ends with /)";

async function upload(
  c: Context<Env>,
  config: WorkerConfig,
  client: ParticipantClient,
): Promise<Response> {
  const token = bearerToken(c.req.raw.headers);
  if (!token) return fail(c, "missing_token", TOKEN_HINT);

  const name = c.req.param("name") ?? "";
  const badName = nameProblem(name);
  if (badName) return fail(c, "invalid_name", badName);

  const completeParam = c.req.query("complete");
  if (completeParam !== undefined && completeParam !== "true" && completeParam !== "false") {
    return fail(c, "invalid_query", "complete must be true or false");
  }
  const idempotencyKey = c.req.header("idempotency-key");
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,500}$/.test(idempotencyKey)) {
    return fail(
      c,
      "invalid_idempotency_key",
      "Idempotency-Key must be 1 to 500 printable ASCII characters without spaces",
    );
  }

  const declared = c.req.header("content-length");
  const chunked = /chunked/i.test(c.req.header("transfer-encoding") ?? "");
  if (declared === undefined || chunked) {
    return fail(c, "length_required", LENGTH_HINT);
  }
  if (!/^\d{1,16}$/.test(declared)) {
    return fail(c, "length_required", `Content-Length ${declared} is not a size. ${LENGTH_HINT}`);
  }
  const size = Number(declared);
  c.set("bytes", size);
  if (size === 0 || !c.req.raw.body) {
    return fail(c, "empty", "the file is empty; attachments need at least 1 byte");
  }
  if (size > config.maxAttachmentBytes) {
    return fail(
      c,
      "too_large",
      `the file is ${size} bytes; the limit is ${config.maxAttachmentBytes} bytes`,
    );
  }

  // Amazon Connect accepts files by extension and by type: the name must end in an accepted
  // extension, and the type (given, or else the extension's) must be accepted too.
  const byName = contentTypeForName(name);
  if (byName === undefined || !config.allowedTypes.has(byName)) {
    return fail(
      c,
      "unsupported_type",
      `${JSON.stringify(name)} does not end in an accepted extension; accepted: ${
        acceptedExtensions(config.allowedTypes)
      }`,
    );
  }
  const given = mimeEssence(c.req.header("content-type") ?? "");
  const contentType = UNTYPED.has(given) ? byName : given;
  if (!config.allowedTypes.has(contentType)) {
    return fail(
      c,
      "unsupported_type",
      `${contentType} is not an accepted type; accepted: ${[...config.allowedTypes].join(", ")}`,
    );
  }

  try {
    const sent = await sendAttachment({
      client,
      connectionToken: token,
      name,
      contentType,
      size,
      body: c.req.raw.body,
      clientToken: idempotencyKey,
      complete: completeParam !== "false",
      maxBytes: config.maxAttachmentBytes,
      allowedTypes: config.allowedTypes,
      isUploadUrlAllowed: (url) => isAllowedHost(url, config.uploadHosts),
    });
    c.set("attachmentId", sent.attachmentId);
    const body: Schemas["Attachment"] = {
      attachmentId: sent.attachmentId,
      name: sent.name,
      contentType: sent.contentType,
      size: sent.size,
      completed: sent.completed,
    };
    return c.json(body, 201, {
      location: `/attachments/${encodeURIComponent(sent.attachmentId)}`,
      "cache-control": "no-store",
    });
  } catch (error) {
    if (!(error instanceof AttachmentError)) throw error;
    c.set("code", error.code);
    if (error.attachmentId) c.set("attachmentId", error.attachmentId);
    return attachmentProblem(error);
  }
}

/** Headers of S3's answer that the download passes on. */
const DOWNLOAD_HEADERS = [
  "content-type",
  "content-length",
  "content-range",
  "content-disposition",
  "accept-ranges",
  "etag",
  "last-modified",
];

async function download(
  c: Context<Env>,
  config: WorkerConfig,
  client: ParticipantClient,
): Promise<Response> {
  const token = bearerToken(c.req.raw.headers);
  if (!token) return fail(c, "missing_token", TOKEN_HINT);
  const attachmentId = c.req.param("id") ?? "";
  c.set("attachmentId", attachmentId);

  const got = await client.getAttachment(token, { AttachmentId: attachmentId });
  if (got.error) {
    const code: ProblemCode = got.error.name === "AccessDeniedException"
      ? "access_denied"
      : got.error.name === "ThrottlingException"
      ? "throttled"
      : got.error.name === "ValidationException" || got.error.name === "ResourceNotFoundException"
      ? "attachment_not_found"
      : "service_unavailable";
    return fail(c, code, `GetAttachment failed: ${got.error.name}: ${got.error.message}`, {
      upstream: participantFailure(got.error),
    });
  }
  let url: URL;
  try {
    url = new URL(got.data.Url ?? "");
  } catch {
    return fail(c, "download_failed", "GetAttachment answered without a usable URL");
  }
  if (!isAllowedHost(url, config.uploadHosts)) {
    return fail(
      c,
      "download_host_not_allowed",
      `the download URL points at ${url.host}, which is not an allowed host`,
    );
  }

  const range = c.req.header("range");
  let stored: Response;
  try {
    stored = await fetch(url, { headers: range ? { range } : {} });
  } catch {
    return fail(c, "download_failed", "S3 could not be reached");
  }
  if (stored.status === 416) {
    await stored.body?.cancel();
    const headers: Record<string, string> = {};
    const contentRange = stored.headers.get("content-range");
    if (contentRange) headers["content-range"] = contentRange;
    return fail(c, "range_not_satisfiable", `the range ${range} is outside the file`, {
      headers,
    });
  }
  if (stored.status !== 200 && stored.status !== 206) {
    const text = await stored.text().catch(() => "");
    const s3Code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    const requestId = stored.headers.get("x-amz-request-id") ??
      /<RequestId>([^<]{1,200})<\/RequestId>/.exec(text)?.[1];
    return fail(c, "download_failed", `S3 answered HTTP ${stored.status}`, {
      upstream: {
        service: "s3",
        name: s3Code ?? `HTTP ${stored.status}`,
        status: stored.status,
        ...(requestId ? { requestId } : {}),
      },
    });
  }
  const headers = new Headers({ "cache-control": "private, no-store" });
  for (const name of DOWNLOAD_HEADERS) {
    const value = stored.headers.get(name);
    if (value) headers.set(name, value);
  }
  if (!headers.has("content-type")) headers.set("content-type", "application/octet-stream");
  if (!headers.has("content-disposition")) headers.set("content-disposition", "attachment");
  headers.set("x-content-type-options", "nosniff");
  return new Response(stored.body, { status: stored.status, headers });
}

function acceptedExtensions(allowed: ReadonlySet<string>): string {
  return Object.entries(ATTACHMENT_TYPES).filter(([, type]) => allowed.has(type))
    .map(([extension]) => "." + extension).join(" ");
}

const TOKEN_HINT = "send the chat participant's ConnectionToken in the X-Amz-Bearer header " +
  "(or as Authorization: Bearer <token>)";

const LENGTH_HINT = "the upload needs a Content-Length (S3 takes no chunked uploads): send " +
  "the file itself, as curl -T file or fetch with a File or Blob body, not a stream";

/**
 * Reads the ConnectionToken from `X-Amz-Bearer`, or from `Authorization: Bearer <token>`.
 *
 * @param headers The request headers.
 * @returns The token, or `undefined` when none is usable.
 */
function bearerToken(headers: Headers): string | undefined {
  const direct = headers.get("x-amz-bearer")?.trim();
  const fromAuthorization = /^bearer\s+(\S+)\s*$/i.exec(headers.get("authorization") ?? "")?.[1];
  const token = direct || fromAuthorization;
  return token && token.length <= TOKEN_MAX ? token : undefined;
}

function fail(
  c: Context<Env>,
  code: ProblemCode,
  detail: string,
  extras: ProblemExtras = {},
): Response {
  c.set("code", code);
  return problemResponse(code, detail, extras);
}
