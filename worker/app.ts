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
import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import type { RetryOptions } from "../src/_core/retry.ts";
import { mimeEssence, nameProblem } from "../src/_core/limits.ts";
import { resolveContentType, uploadRefusal } from "../src/_core/upload_rules.ts";
import { AttachmentError } from "../src/_core/send.ts";
import { attachmentDisposition, dispositionFilename } from "../src/_core/disposition.ts";
import { isRedirect } from "../src/_core/put.ts";
import { type ConcurrencyLimit, concurrencyLimit } from "./concurrency.ts";
import { deadlineOf } from "./deadlines.ts";
import { IdempotencyKeyReusedError, UploadMemory } from "./idempotency.ts";
import { describeError } from "./redact.ts";
import { RequestBodyError, resilientSend, type UploadGuard } from "./resilient_send.ts";
import { readToken, TokenTrust } from "./token.ts";
import type { WorkerConfig } from "./config.ts";
import { isAllowedHost } from "./hosts.ts";
import type { DevPageFactory } from "./dev_page_factory.ts";
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
  /**
   * Makes the development page, served at `/` when `config.devPage` is on. Without it, an
   * enabled page answers 500 `misconfigured`. Only development builds pass it, so the page
   * never weighs on the production bundle.
   */
  devPage?: DevPageFactory;
  /**
   * Makes the stream a download's body passes through on its way out, for a body of `length`
   * bytes (`undefined`: not known). The runtime must still send a known length as
   * `Content-Length`: workerd needs its `FixedLengthStream` for that, Deno keeps the header.
   * @default {a TransformStream}
   */
  bodyStream?: (length: number | undefined) => TransformStream<Uint8Array, Uint8Array>;
}

type Env = { Variables: { code?: ProblemCode; attachmentId?: string; bytes?: number } };

/** The app {@link createApp} makes: a Hono app; serve its `fetch`. */
export type WorkerApp = Hono<Env>;

/**
 * Creates the upload worker's app.
 *
 * - `PUT /attachments/{name}`: streams the body into the chat (start, PUT to S3, complete).
 * - `GET /attachments/{attachmentId}`: streams the attachment back; `Range` passes through.
 * - `GET /healthz` and `GET /openapi.json`.
 * - `GET /`: the development page, only when `config.devPage` is on.
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
  // Calls with tokens the service never accepted share a small retry budget, so that made-up
  // tokens cost one call each, not one per try.
  const trust = new TokenTrust();
  const retry = options.retry ?? {
    maxAttempts: config.reliability.serviceMaxAttempts,
    attemptTimeoutMs: config.reliability.serviceAttemptTimeoutMs,
    deadlineMs: config.reliability.serviceDeadlineMs,
  };
  const client = createParticipantClient({
    endpoint: config.participantEndpoint,
    fetch: trust.observe(options.fetch ?? ((input, init) => globalThis.fetch(input, init))),
    retry: retry === false ? false : { ...retry, mayRetry: trust.mayRetry },
  });
  const bodyStream = options.bodyStream ?? (() => new TransformStream());
  const guard: UploadGuard = {
    uploadTimeoutMs: config.reliability.uploadTimeoutMs,
    memory: new UploadMemory(),
  };
  const limit = concurrencyLimit({
    maxPerToken: config.reliability.maxRequestsPerToken,
    refuse: (c, retryAfter, max) =>
      fail(c, "too_many_requests", `at most ${max} requests per token may run at once`, {
        headers: { "retry-after": String(retryAfter) },
      }),
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

  if (config.devPage) {
    if (options.devPage) {
      app.route(
        "/",
        options.devPage({
          participantUrl: config.participantEndpoint,
          maxBytes: config.maxAttachmentBytes,
          allowedTypes: [...config.allowedTypes],
        }),
      );
    } else {
      app.get("/", (c) => fail(c, "misconfigured", NO_PAGE_SCRIPTS));
    }
  }

  app.put("/attachments", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/:name", limit.middleware, (c) => upload(c, config, client, guard));
  app.get(
    "/attachments/:id",
    limit.middleware,
    (c) => download(c, config, client, limit, bodyStream),
  );

  app.notFound((c) => fail(c, "not_found", `nothing at ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    console.error("internal error:", describeError(error));
    return fail(c, "internal_error", "the worker failed to handle the request");
  });
  return app;
}

const NO_PAGE_SCRIPTS = "DEV_PAGE is true but this is a production build, without the page: " +
  "use the development bundle (deno task start builds it) or serve worker/deno.ts";

const NO_NAME = "put the file name at the end of the URL, such as /attachments/report.pdf " +
  "(curl -T report.pdf adds it when the URL ends with /)";

async function upload(
  c: Context<Env>,
  config: WorkerConfig,
  client: ParticipantClient,
  guard: UploadGuard,
): Promise<Response> {
  const { token, problem } = readToken(c.req.raw.headers);
  if (token === undefined) return fail(c, "missing_token", `${problem}; ${TOKEN_HINT}`);

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
  // The size and type rules, shared with the browser client so that it refuses up front with
  // the same code and message.
  const given = c.req.header("content-type");
  const refusal = uploadRefusal({ name, contentType: given, size }, {
    maxBytes: config.maxAttachmentBytes,
    allowedTypes: config.allowedTypes,
  });
  if (refusal) return fail(c, refusal.code, refusal.message);
  // Known to resolve: the rules refuse a type they cannot tell.
  const contentType = resolveContentType(name, given)!;

  try {
    const sent = await resilientSend({
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
      signal: c.req.raw.signal,
    }, guard);
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
    const attachmentId = error instanceof AttachmentError ? error.attachmentId : undefined;
    const deadline = deadlineOf(error);
    if (deadline) {
      if (attachmentId) c.set("attachmentId", attachmentId);
      return fail(c, "upload_timeout", deadline.message, { attachmentId });
    }
    if (error instanceof IdempotencyKeyReusedError) {
      return fail(c, "idempotency_key_reused", error.message);
    }
    if (c.req.raw.signal.aborted || error instanceof RequestBodyError) {
      return fail(c, "client_disconnected", "the client closed the connection mid-upload", {
        attachmentId,
      });
    }
    if (!(error instanceof AttachmentError)) throw error;
    c.set("code", error.code);
    if (error.attachmentId) c.set("attachmentId", error.attachmentId);
    return attachmentProblem(error);
  }
}

/** Headers of S3's answer that the download passes on as they are. */
const DOWNLOAD_HEADERS = [
  "content-length",
  "content-range",
  "accept-ranges",
  "etag",
  "last-modified",
];

async function download(
  c: Context<Env>,
  config: WorkerConfig,
  client: ParticipantClient,
  limit: ConcurrencyLimit,
  bodyStream: NonNullable<AppOptions["bodyStream"]>,
): Promise<Response> {
  const { token, problem } = readToken(c.req.raw.headers);
  if (token === undefined) return fail(c, "missing_token", `${problem}; ${TOKEN_HINT}`);
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

  // One deadline from the GET to S3 to the body's last byte: a peer that stalls, or a client
  // that stops reading, never holds the request (its slot and its S3 connection) for ever.
  const budget = config.reliability.downloadTimeoutMs;
  const deadline = new AbortController();
  const timer = setTimeout(
    () => deadline.abort(new Error(`the download took over ${budget} ms`)),
    budget,
  );
  const signal = AbortSignal.any([deadline.signal, c.req.raw.signal]);
  const range = c.req.header("range");
  let stored: Response;
  try {
    // A pre-signed GET is answered with the bytes or an error: a redirect would lead to a
    // host that UPLOAD_HOSTS never allowed, so it is not followed.
    stored = await fetch(url, { headers: range ? { range } : {}, redirect: "manual", signal });
  } catch {
    clearTimeout(timer);
    if (c.req.raw.signal.aborted) {
      return fail(c, "client_disconnected", "the client went away before the download began");
    }
    return fail(
      c,
      "download_failed",
      deadline.signal.aborted ? `S3 did not answer within ${budget} ms` : "S3 could not be reached",
    );
  }
  if (stored.status === 416) {
    clearTimeout(timer);
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
    clearTimeout(timer);
    const s3Code = /<Code>([^<]{1,100})<\/Code>/.exec(text)?.[1];
    const requestId = stored.headers.get("x-amz-request-id") ??
      /<RequestId>([^<]{1,200})<\/RequestId>/.exec(text)?.[1];
    return fail(
      c,
      "download_failed",
      isRedirect(stored)
        ? `S3 answered the download with a redirect (HTTP ${stored.status}), not followed`
        : `S3 answered HTTP ${stored.status}`,
      {
        upstream: {
          service: "s3",
          name: s3Code ?? `HTTP ${stored.status}`,
          status: stored.status,
          ...(requestId ? { requestId } : {}),
        },
      },
    );
  }
  const headers = downloadHeaders(stored.headers, config.allowedTypes);
  if (c.req.method === "HEAD" || !stored.body) {
    clearTimeout(timer);
    await stored.body?.cancel();
    return new Response(null, { status: stored.status, headers });
  }
  const declared = stored.headers.get("content-length");
  const length = declared !== null && /^\d{1,16}$/.test(declared) ? Number(declared) : undefined;
  const { readable, writable } = bodyStream(length);
  // The pipe ends when the client has the last byte, goes away (cancelling S3's body), or the
  // deadline passes (cutting both): only then is the token's slot free again.
  const source = stored.body;
  const through = source.pipeTo(writable, { signal })
    .catch(() => source.cancel().catch(() => {}))
    .finally(() => clearTimeout(timer));
  limit.holdUntil(c, through);
  return new Response(readable, { status: stored.status, headers });
}

/**
 * The headers of a download, whatever S3 sent: always a download (`attachment`, with the
 * stored name only where it passes the name rules), a type among the accepted ones (else
 * `application/octet-stream`), a sandboxing CSP and `nosniff`, so that no stored object is
 * ever rendered as a page of the worker's origin.
 */
function downloadHeaders(from: Headers, allowedTypes: ReadonlySet<string>): Headers {
  const headers = new Headers({ "cache-control": "private, no-store" });
  for (const name of DOWNLOAD_HEADERS) {
    const value = from.get(name);
    if (value) headers.set(name, value);
  }
  const type = mimeEssence(from.get("content-type") ?? "");
  headers.set("content-type", allowedTypes.has(type) ? type : "application/octet-stream");
  const name = dispositionFilename(from.get("content-disposition"));
  headers.set(
    "content-disposition",
    attachmentDisposition(name !== undefined && !nameProblem(name) ? name : undefined),
  );
  headers.set("content-security-policy", "sandbox");
  headers.set("x-content-type-options", "nosniff");
  return headers;
}

const TOKEN_HINT = "send the chat participant's ConnectionToken in the X-Amz-Bearer header " +
  "(or as Authorization: Bearer <token>)";

const LENGTH_HINT = "the upload needs a Content-Length (S3 takes no chunked uploads): send " +
  "the file itself, as curl -T file or fetch with a File or Blob body, not a stream";

function fail(
  c: Context<Env>,
  code: ProblemCode,
  detail: string,
  extras: ProblemExtras = {},
): Response {
  c.set("code", code);
  return problemResponse(code, detail, extras);
}
