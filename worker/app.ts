/**
 * The upload worker: one Hono app, free of runtime specifics, that the workerd and Deno entry
 * points serve.
 *
 * @module
 */

import { Hono } from "hono/tiny";
import { cors } from "hono/cors";
import type { Context, MiddlewareHandler } from "hono";
import type { components } from "../generated/worker.ts";
import { createParticipantClient, type ParticipantCalls } from "../src/_core/client.ts";
import { AttachmentError } from "../src/_core/errors.ts";
import {
  KNOWN_CONTENT_TYPES,
  mimeEssence,
  nameProblem,
  resolveContentType,
} from "../src/_core/rules.ts";
import { getStoredObject, locateAttachment } from "../src/_core/retrieve.ts";
import { completedVerdict, scanProblem } from "../src/_core/scan.ts";
import { attachmentDisposition, dispositionFilename } from "../src/_core/disposition.ts";
import { type ConcurrencyLimit, concurrencyLimit } from "./concurrency.ts";
import { deadlineOf } from "./deadlines.ts";
import { UploadMemory } from "./idempotency.ts";
import { describeError } from "./redact.ts";
import { resilientSend, type UploadGuard } from "./resilient_send.ts";
import { readToken, TokenTrust } from "./token.ts";
import type { WorkerConfig } from "./config.ts";
import { isAllowedHost } from "./hosts.ts";
import type { DevPageFactory } from "./dev_page_factory.ts";
import { type ProblemCode, problemResponse } from "./problem.ts";
import { preferredWait } from "./prefer.ts";
import { rateLimit, type RateLimiter } from "./rate_limit.ts";

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
  /**
   * Answers `GET /openapi.json` with the worker's OpenAPI document
   * (`generated/assets/openapi.json`): workerd fetches it from the Workers static assets, so
   * that it stays out of the bundle; Deno from a static import. Without it, there is no such
   * route (`not_found`).
   */
  openapi?: () => Response | Promise<Response>;
  /**
   * A per-token rate limit shared by every instance, checked before the per-instance
   * concurrency limit on the upload and download routes: workerd passes the Workers
   * rate-limiting binding; without one (Deno), only the concurrency limit applies.
   */
  rateLimiter?: RateLimiter;
}

type Env = { Variables: { code?: ProblemCode; attachmentId?: string; bytes?: number } };

/** The app {@link createApp} makes: a Hono app; serve its `fetch`. */
export type WorkerApp = Hono<Env>;

/**
 * Creates the upload worker's app.
 *
 * - `PUT /attachments/{name}`: streams the body into the chat (start, PUT to S3, complete),
 *   and says the scanner's verdict, waiting for it up to `Prefer: wait=N` seconds.
 * - `GET /attachments/{attachmentId}`: streams the attachment back; `Range` passes through.
 * - `GET /policy`: the limits it refuses early, for clients to check files first.
 * - `GET /healthz` and `GET /openapi.json`.
 * - `GET /`: the development page, only when `config.devPage` is on.
 *
 * @param config The configuration, from {@link parseConfig}.
 * @param options Logging, the development page and what the runtime's edge provides.
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
  const client = participantCalls(config);
  const bodyStream = options.bodyStream ?? (() => new TransformStream());
  const guard: UploadGuard = {
    uploadTimeoutMs: config.reliability.uploadTimeoutMs,
    memory: new UploadMemory(),
  };
  const limit = concurrencyLimit({
    maxPerToken: config.reliability.maxRequestsPerToken,
    refuse: (c, retryAfter, max) =>
      fail(c, "too_many_requests", `at most ${max} requests per token may run at once`, {
        "retry-after": String(retryAfter),
      }),
  });
  // The shared rate limit (where the runtime has one) first, then the per-instance one.
  const rate = options.rateLimiter &&
    rateLimit(
      options.rateLimiter,
      (c, retryAfter) =>
        fail(c, "rate_limited", `this token made more requests than allowed in ${retryAfter} s`, {
          "retry-after": String(retryAfter),
        }),
    );
  const limits: MiddlewareHandler = rate
    ? (c, next) => rate(c, async () => void await limit.middleware(c, next))
    : limit.middleware;
  const app = new Hono<Env>();

  if (options.log) app.use("*", requestLog(options.log));
  if (config.corsOrigins.length > 0) app.use("*", corsFor(config.corsOrigins));

  app.get("/healthz", (c) => c.json({ status: "ok" } satisfies Schemas["Health"]));
  app.get("/policy", (c) => c.json(policyOf(config), 200, { "cache-control": "no-store" }));
  const { openapi } = options;
  if (openapi) {
    // A copy, whose headers the middleware (CORS) may still change.
    app.get("/openapi.json", async () => {
      const served = await openapi();
      return new Response(served.body, served);
    });
  }

  if (config.devPage) {
    if (options.devPage) {
      app.route(
        "/",
        options.devPage({ participantUrl: config.participantEndpoint }),
      );
    } else {
      app.get("/", (c) => fail(c, "misconfigured", NO_PAGE_SCRIPTS));
    }
  }

  app.put("/attachments", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/", (c) => fail(c, "invalid_name", NO_NAME));
  app.put("/attachments/:name", limits, (c) => upload(c, config, client, guard));
  app.get("/attachments/:id", limits, (c) => download(c, config, client, limit, bodyStream));

  app.notFound((c) => fail(c, "not_found", `nothing at ${c.req.method} ${c.req.path}`));
  app.onError((error, c) => {
    console.error("internal error:", describeError(error));
    return fail(c, "internal_error", "the worker failed to handle the request");
  });
  return app;
}

/**
 * The worker's Participant Service client (the project's one client, on openapi-fetch). Calls
 * with tokens the service never accepted share a small retry budget, so that made-up tokens
 * cost one call each, not one per try.
 */
function participantCalls(config: WorkerConfig): ParticipantCalls {
  const trust = new TokenTrust();
  return createParticipantClient({
    endpoint: config.participantEndpoint,
    fetch: trust.observe((input, init) => globalThis.fetch(input, init)),
    retry: {
      maxAttempts: config.reliability.serviceMaxAttempts,
      attemptTimeoutMs: config.reliability.serviceAttemptTimeoutMs,
      deadlineMs: config.reliability.serviceDeadlineMs,
      mayRetry: trust.mayRetry,
    },
  });
}

/** What `GET /policy` answers: the limits the worker refuses early, for clients to apply. */
function policyOf(config: WorkerConfig): Schemas["Policy"] {
  return {
    maxBytes: config.maxAttachmentBytes,
    ...(config.allowedTypes ? { allowedTypes: [...config.allowedTypes] } : {}),
  };
}

/** One {@link RequestLog} line per request, once its answer is made. */
function requestLog(log: (entry: RequestLog) => void): MiddlewareHandler<Env> {
  return async (c, next) => {
    const started = Date.now();
    await next();
    // Members left undefined are left out of the JSON line.
    log({
      method: c.req.method,
      path: c.req.path,
      status: c.res.status,
      code: c.get("code"),
      attachmentId: c.get("attachmentId"),
      bytes: c.get("bytes"),
      ms: Date.now() - started,
    });
  };
}

/**
 * CORS for the configured origins (`*` for any): preflights answered with the methods and
 * headers the worker reads (cached 10 minutes); answers to an allowed origin expose the headers
 * a page needs.
 */
function corsFor(origins: readonly string[]): MiddlewareHandler {
  return cors({
    origin: origins.includes("*") ? "*" : [...origins],
    allowMethods: ["GET", "PUT", "HEAD", "OPTIONS"],
    allowHeaders: [
      "X-Amz-Bearer",
      "Authorization",
      "Content-Type",
      "Idempotency-Key",
      "Range",
      "Prefer",
    ],
    exposeHeaders: [
      "Location",
      "Preference-Applied",
      "Retry-After",
      "Content-Disposition",
      "Content-Range",
      "Content-Length",
      "Accept-Ranges",
    ],
    maxAge: 600,
  });
}

const NO_PAGE_SCRIPTS = "DEV_PAGE is true, but this production build has no development page " +
  "(deno task start serves one)";

const NO_NAME = "put the file name at the end of the URL, such as /attachments/report.pdf " +
  "(curl -T report.pdf adds it when the URL ends with /)";

/** What an upload request says, once the worker can take it. */
interface UploadRequest {
  token: string;
  name: string;
  contentType?: string;
  size: number;
  complete: boolean;
  idempotencyKey?: string;
}

/**
 * Reads an upload request: its token, name, query, `Idempotency-Key` and `Content-Length`. The
 * file itself (name, size, extension, type) is checked once, by the upload it goes on to.
 */
function readUpload(c: Context<Env>): UploadRequest | AttachmentError {
  const refuse = (code: ProblemCode, message: string) =>
    new AttachmentError(code, "validate", message);
  const token = requestToken(c);
  if (token instanceof AttachmentError) return token;

  const complete = c.req.query("complete");
  if (complete !== undefined && complete !== "true" && complete !== "false") {
    return refuse("invalid_query", "complete must be true or false");
  }
  const idempotencyKey = c.req.header("idempotency-key");
  if (idempotencyKey !== undefined && !/^[\x21-\x7e]{1,500}$/.test(idempotencyKey)) {
    return refuse(
      "invalid_idempotency_key",
      "Idempotency-Key must be 1 to 500 printable ASCII characters without spaces",
    );
  }

  const declared = c.req.header("content-length");
  if (declared === undefined || /chunked/i.test(c.req.header("transfer-encoding") ?? "")) {
    return refuse("length_required", LENGTH_HINT);
  }
  const size = lengthOf(declared);
  if (size === undefined) {
    return refuse("length_required", `Content-Length ${declared} is not a size. ${LENGTH_HINT}`);
  }
  return {
    token,
    name: c.req.param("name") ?? "",
    contentType: c.req.header("content-type"),
    size,
    complete: complete !== "false",
    idempotencyKey,
  };
}

async function upload(
  c: Context<Env>,
  config: WorkerConfig,
  client: ParticipantCalls,
  guard: UploadGuard,
): Promise<Response> {
  const request = readUpload(c);
  if (request instanceof AttachmentError) return fail(c, request);
  const { name, size } = request;
  c.set("bytes", size);
  try {
    const sent = await resilientSend({
      client,
      connectionToken: request.token,
      name,
      contentType: resolveContentType(name, request.contentType),
      size,
      body: c.req.raw.body ?? new Uint8Array(),
      clientToken: request.idempotencyKey,
      complete: request.complete,
      maxBytes: config.maxAttachmentBytes,
      allowedTypes: config.allowedTypes,
      isUploadUrlAllowed: (url) => isAllowedHost(url, config.uploadHosts),
      signal: c.req.raw.signal,
    }, guard);
    c.set("attachmentId", sent.attachmentId);
    const wait = sent.completed ? preferredWait(c.req.raw.headers) : undefined;
    const applied: Record<string, string> = wait ? { "preference-applied": `wait=${wait}` } : {};
    const status = sent.completed
      ? await completedVerdict({
        client,
        connectionToken: request.token,
        attachmentId: sent.attachmentId,
        waitMs: (wait ?? 0) * 1000,
        signal: c.req.raw.signal,
      })
      : undefined;
    if (status === "REJECTED") return fail(c, scanProblem(status, sent.attachmentId)!, "", applied);
    const body: Schemas["Attachment"] = {
      attachmentId: sent.attachmentId,
      name: sent.name,
      contentType: sent.contentType,
      size: sent.size,
      completed: sent.completed,
      status,
    };
    return c.json(body, 201, {
      location: `/attachments/${encodeURIComponent(sent.attachmentId)}`,
      "cache-control": "no-store",
      ...applied,
    });
  } catch (error) {
    return fail(c, uploadFailure(error, c.req.raw.signal));
  }
}

/** What a failed upload answers: a deadline, the client gone, or the upload's own error. */
function uploadFailure(error: unknown, signal: AbortSignal): AttachmentError {
  const attachmentId = error instanceof AttachmentError ? error.attachmentId : undefined;
  const deadline = deadlineOf(error);
  if (deadline) {
    return new AttachmentError("upload_timeout", "upload", deadline.message, { attachmentId });
  }
  if (signal.aborted) {
    return new AttachmentError(
      "client_disconnected",
      "upload",
      "the client closed the connection mid-upload",
      { attachmentId },
    );
  }
  if (error instanceof AttachmentError) return error;
  throw error;
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
  client: ParticipantCalls,
  limit: ConcurrencyLimit,
  bodyStream: NonNullable<AppOptions["bodyStream"]>,
): Promise<Response> {
  const token = requestToken(c);
  if (token instanceof AttachmentError) return fail(c, token);
  const attachmentId = c.req.param("id") ?? "";
  c.set("attachmentId", attachmentId);

  // One deadline from the GET to S3 to the body's last byte: a peer that stalls, or a client
  // that stops reading, never holds the request (its slot and its S3 connection) for ever.
  const budget = config.reliability.downloadTimeoutMs;
  const range = c.req.header("range");
  let deadline: AbortSignal | undefined;
  let signal: AbortSignal;
  let stored: Response;
  try {
    const { url } = await locateAttachment({
      client,
      connectionToken: token,
      attachmentId,
      isDownloadUrlAllowed: (url) => isAllowedHost(url, config.uploadHosts),
    });
    deadline = AbortSignal.timeout(budget);
    signal = AbortSignal.any([deadline, c.req.raw.signal]);
    // A redirect would lead to a host that UPLOAD_HOSTS never allowed: it is a failure.
    stored = await getStoredObject(url, {
      headers: range ? { range } : {},
      signal,
      accepted: [200, 206, 416],
    });
  } catch (error) {
    return fail(c, downloadFailure(error, c.req.raw.signal, deadline, budget));
  }
  if (stored.status === 416) {
    await stored.body?.cancel();
    const contentRange = stored.headers.get("content-range");
    return fail(
      c,
      "range_not_satisfiable",
      `the range ${range} is outside the file`,
      contentRange ? { "content-range": contentRange } : {},
    );
  }
  const headers = downloadHeaders(stored.headers);
  if (c.req.method === "HEAD" || !stored.body) {
    await stored.body?.cancel();
    return new Response(null, { status: stored.status, headers });
  }
  const through = relayBody(stored.body, stored.headers, bodyStream, signal);
  limit.holdUntil(c, through.done);
  return new Response(through.body, { status: stored.status, headers });
}

/**
 * Passes S3's body on, through the runtime's stream for its length. The pipe ends when the
 * client has the last byte, goes away (cancelling S3's body), or the deadline passes (cutting
 * both); `done` settles then, and only then is the token's slot free again.
 */
function relayBody(
  source: ReadableStream<Uint8Array>,
  from: Headers,
  bodyStream: NonNullable<AppOptions["bodyStream"]>,
  signal: AbortSignal,
): { body: ReadableStream<Uint8Array>; done: Promise<unknown> } {
  const { readable, writable } = bodyStream(lengthOf(from.get("content-length")));
  const done = source.pipeTo(writable, { signal })
    .catch(() => source.cancel().catch(() => {}));
  return { body: readable, done };
}

/** What a download that failed before its first byte answers. */
function downloadFailure(
  error: unknown,
  request: AbortSignal,
  deadline: AbortSignal | undefined,
  budget: number,
): AttachmentError {
  if (request.aborted) {
    return new AttachmentError(
      "client_disconnected",
      "download",
      "the client went away before the download began",
    );
  }
  if (deadline?.aborted) {
    return new AttachmentError(
      "download_failed",
      "download",
      `S3 did not answer within ${budget} ms`,
    );
  }
  if (error instanceof AttachmentError) return error;
  throw error;
}

/**
 * The headers of a download, whatever S3 sent: always a download (`attachment`, with the
 * stored name only where it passes the name rules), a type among the inert ones the rules know
 * (else `application/octet-stream`), a sandboxing CSP and `nosniff`, so that no stored object
 * is ever rendered as a page of the worker's origin.
 */
function downloadHeaders(from: Headers): Headers {
  const headers = new Headers({ "cache-control": "private, no-store" });
  for (const name of DOWNLOAD_HEADERS) {
    const value = from.get(name);
    if (value) headers.set(name, value);
  }
  const type = mimeEssence(from.get("content-type") ?? "");
  headers.set("content-type", KNOWN_CONTENT_TYPES.has(type) ? type : "application/octet-stream");
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

/** The request's ConnectionToken, or the `missing_token` refusal that says how to send one. */
function requestToken(c: Context<Env>): string | AttachmentError {
  const { token, problem } = readToken(c.req.raw.headers);
  return token ?? new AttachmentError("missing_token", "validate", `${problem}; ${TOKEN_HINT}`);
}

/** A `Content-Length` value as a number, or `undefined` where it is none (or not a size). */
function lengthOf(value: string | null | undefined): number | undefined {
  return value != null && /^\d{1,16}$/.test(value) ? Number(value) : undefined;
}

const LENGTH_HINT = "the upload needs a Content-Length (S3 takes no chunked uploads): send " +
  "the file itself, as curl -T file or fetch with a File or Blob body, not a stream";

/** Answers with an error as a problem document, and notes its code for the request log. */
function fail(
  c: Context<Env>,
  problem: AttachmentError | ProblemCode,
  detail = "",
  headers?: HeadersInit,
): Response {
  const error = problem instanceof AttachmentError
    ? problem
    : new AttachmentError(problem, "validate", detail);
  c.set("code", error.code as ProblemCode);
  if (error.attachmentId) c.set("attachmentId", error.attachmentId);
  return problemResponse(error, headers);
}
