/**
 * A tiny browser client for the upload worker: send a `File` into an Amazon Connect chat in
 * one request with upload progress, fetch an attachment back, and (for local development)
 * start a chat against a Participant Service. Web APIs only, no dependencies.
 *
 * Every failure is an {@link UploadError}, one of the project's `AttachmentError`s: the
 * worker's stable `code`, and where the Participant Service or S3 said no, their answer in
 * `upstream`.
 *
 * @example Upload a file picked by the user
 * ```ts ignore
 * import { uploadFile } from "./browser.ts";
 * const input = document.querySelector<HTMLInputElement>("input[type=file]")!;
 * const sent = await uploadFile(input.files![0], {
 *   endpoint: "http://127.0.0.1:8787",
 *   token: connectionToken,
 *   onProgress: ({ percent }) => console.log(`${percent}%`),
 * });
 * console.log(sent.attachmentId);
 * ```
 *
 * @module
 */

import type { components } from "../generated/worker.ts";
import { AttachmentError, type AttachmentErrorCode, type AttachmentStage } from "./_core/errors.ts";
import { type AttachmentProblem, checkAttachment } from "./_core/rules.ts";
import { isRetryableStatus, parseServiceError, serviceFailure } from "./_core/upstream.ts";
import { transcriptPages } from "./_core/transcript.ts";
import { openConnection } from "./_core/connection.ts";
import type { CallOptions, ParticipantCalls, ParticipantResult } from "./_core/client.ts";

/** @internal The worker's shapes, from its OpenAPI description. */
type WorkerSchemas = components["schemas"];

/** The worker's answer to a completed upload (`201`), from its OpenAPI description. */
export type WorkerAttachment = WorkerSchemas["Attachment"];

/** An error answer of the worker (`application/problem+json`, RFC 9457). */
export type WorkerProblem = WorkerSchemas["Problem"];

/** How far an upload has come. */
export interface UploadProgress {
  /** Bytes sent so far. */
  loaded: number;
  /** Bytes in all. */
  total: number;
  /** `loaded` as a whole percentage, 0–100. */
  percent: number;
}

/** Options of {@link uploadFile}. */
export interface UploadOptions {
  /** The worker's base URL, such as `http://127.0.0.1:8787`, or `""` for the page's origin. */
  endpoint: string | URL;
  /** The participant's ConnectionToken, sent as `X-Amz-Bearer` (never in the URL). */
  token: string;
  /** Told as bytes go out: once per browser upload progress event, and once at the end. */
  onProgress?: (progress: UploadProgress) => void;
  /**
   * Told once every byte has gone out, while the worker completes the attachment and (with
   * `waitForScan`) waits for the chat's attachment scanner.
   */
  onSent?: () => void;
  /**
   * Seconds the worker may wait for the chat's attachment scanner (`Prefer: wait=N`, at most
   * 60): the upload then resolves with `status: "APPROVED"`, or `"IN_PROGRESS"` when the time
   * ran out, and rejects with code `attachment_rejected` when the scanner rejects the file.
   * Without it, the worker looks the status up once.
   */
  waitForScan?: number;
  /**
   * The `Idempotency-Key`: the worker's retry guard. Send the same key again to retry a
   * failed upload without ever making a second attachment.
   * @default {crypto.randomUUID()}
   */
  idempotencyKey?: string;
  /** Cancels the upload; the promise then rejects with the signal's reason. */
  signal?: AbortSignal;
  /**
   * The attachment name shown in the chat.
   * @default {file.name}
   */
  name?: string;
  /**
   * The MIME type. Left out, the browser sends the file's own type, and the worker infers one
   * from the name where the browser knows none.
   * @default {file.type}
   */
  contentType?: string;
}

/** A completed upload: the worker's answer, where it lives, and the key that made it. */
export interface UploadedAttachment extends WorkerAttachment {
  /** The attachment's URL on the worker (the `Location` header), absolute. */
  location: string;
  /** The `Idempotency-Key` the upload was sent with. */
  idempotencyKey: string;
}

/**
 * A refused or failed request to the worker: an `AttachmentError` with the worker's stable
 * `code`, message and `upstream`, and the details of its answer. Codes for failures that got
 * no answer: `network_error`; for an answer that is not a problem document:
 * `unexpected_response`.
 */
export class UploadError extends AttachmentError {
  /** The HTTP status, or 0 where no answer came. */
  readonly status: number;
  /** The `Idempotency-Key` of the failed upload: send it again to retry safely. */
  readonly idempotencyKey?: string;
  /** Seconds the worker asked to wait before a retry (`Retry-After`), where it said. */
  readonly retryAfterSeconds?: number;
  /** The whole problem document, where the worker sent one. */
  readonly problem?: WorkerProblem;

  /**
   * Makes the error; thrown by the client, rarely built by callers.
   *
   * @param code The stable reason.
   * @param message What went wrong, for people.
   * @param details The status, key, problem document, retry hint and stage.
   */
  constructor(
    code: AttachmentErrorCode,
    message: string,
    details: {
      status?: number;
      idempotencyKey?: string;
      problem?: WorkerProblem;
      retryAfterSeconds?: number;
      stage?: AttachmentStage;
    } = {},
  ) {
    const status = details.status ?? 0;
    super(code, details.stage ?? "upload", message, {
      upstream: details.problem?.upstream,
      attachmentId: details.problem?.attachmentId,
      // An answer that is no problem document says no more than its status.
      retryable: code === "unexpected_response" ? isRetryableStatus(status) : undefined,
    });
    this.name = "UploadError";
    this.status = status;
    this.idempotencyKey = details.idempotencyKey;
    this.problem = details.problem;
    this.retryAfterSeconds = details.retryAfterSeconds;
  }
}

/**
 * What the worker refuses early, as `GET /policy` tells it: the largest size, and the MIME types
 * and extensions it accepts where it accepts only some. Everything else is the Amazon Connect
 * instance's to decide.
 */
export type UploadLimits = WorkerSchemas["Policy"];

/** A file refused before upload: the same code and message the worker would answer with. */
export type FileProblem = AttachmentProblem;

/**
 * Checks a file before it is sent, with the worker's own rules, codes and messages, so that a
 * file sure to be refused never goes out: what every Amazon Connect instance requires (a
 * usable name, 1 byte to 100 MB, an extension), and the worker's limits where given (see
 * {@link fetchPolicy}). What the instance itself allows is known only once the upload asks.
 *
 * @param file The file (its name, type and size are read, never its bytes).
 * @param limits The worker's limits. @default {Amazon Connect's bounds}
 * @returns The problem, or `undefined` when the file may be sent.
 *
 * @example
 * ```ts ignore
 * import { checkFile, fetchPolicy } from "./browser.ts";
 * const problem = checkFile(file, await fetchPolicy(""));
 * if (problem) alert(problem.message);
 * ```
 */
export function checkFile(
  file: Pick<File, "name" | "type" | "size">,
  limits: Partial<UploadLimits> = {},
): FileProblem | undefined {
  return checkAttachment({ name: file.name, contentType: file.type, size: file.size }, limits);
}

/**
 * Asks the worker what it refuses early (`GET /policy`), for {@link checkFile}.
 *
 * @param endpoint The worker's base URL, or `""` for the page's origin.
 * @param options Cancels the request.
 * @returns The worker's limits.
 * @throws {UploadError} `network_error` when the worker cannot be reached,
 * `unexpected_response` when it answers otherwise than with its limits.
 *
 * @example
 * ```ts ignore
 * import { fetchPolicy } from "./browser.ts";
 * const { maxBytes, allowedTypes } = await fetchPolicy("http://127.0.0.1:8787");
 * ```
 */
export async function fetchPolicy(
  endpoint: string | URL,
  options: { signal?: AbortSignal } = {},
): Promise<UploadLimits> {
  const url = new URL("policy", baseOf(endpoint)).href;
  let response: Response;
  try {
    response = await fetch(url, { signal: options.signal });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new UploadError("network_error", "the worker's policy could not be fetched", {
      stage: "validate",
    });
  }
  const body = parseJson(await response.text().catch(() => "")) as Partial<UploadLimits>;
  if (!response.ok || typeof body?.maxBytes !== "number") {
    throw new UploadError("unexpected_response", `GET /policy answered HTTP ${response.status}`, {
      status: response.status,
      stage: "validate",
    });
  }
  return {
    maxBytes: body.maxBytes,
    ...(Array.isArray(body.allowedTypes) ? { allowedTypes: body.allowedTypes } : {}),
  };
}

/**
 * The extensions that a list of accepted types and extensions allows, such as `.pdf .png`:
 * for an `accept` attribute or a hint beside a file picker.
 */
export { acceptedExtensions } from "./_core/rules.ts";

/**
 * Uploads a file to the worker in one `PUT /attachments/{name}` request; the worker starts the
 * attachment, streams the bytes to S3 and completes it. Progress comes from XMLHttpRequest's
 * upload events (`fetch` reports none).
 *
 * @param file The file or blob (a blob needs `options.name`).
 * @param options The worker, the token, progress and retry settings.
 * @returns The completed attachment, with the scanner's `status` where the worker said it.
 * @throws {UploadError} With the worker's `code` and message when the worker refuses the file,
 * the chat's scanner rejects it (`attachment_rejected`), or the request fails;
 * `error.idempotencyKey` retries it safely.
 * @throws {DOMException} `AbortError` (or the signal's reason) when cancelled.
 *
 * @example Retry a failed upload with the same key
 * ```ts ignore
 * import { UploadError, uploadFile } from "./browser.ts";
 * const options = { endpoint: "", token };
 * try {
 *   await uploadFile(file, options);
 * } catch (error) {
 *   if (error instanceof UploadError && error.retryable) {
 *     await uploadFile(file, { ...options, idempotencyKey: error.idempotencyKey });
 *   } else throw error;
 * }
 * ```
 */
export function uploadFile(
  file: Blob & { name?: string },
  options: UploadOptions,
): Promise<UploadedAttachment> {
  const { token, onProgress, onSent, signal, idempotencyKey = crypto.randomUUID() } = options;
  const name = options.name ?? file.name;
  if (!name) {
    return Promise.reject(new TypeError("give options.name for a blob without a name"));
  }
  const url = attachmentUrl(options.endpoint, name);
  return new Promise<UploadedAttachment>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const xhr = new XMLHttpRequest();
    const total = file.size;
    const report = (loaded: number) =>
      onProgress?.({
        loaded,
        total,
        percent: total === 0 ? 100 : Math.min(100, Math.floor((loaded / total) * 100)),
      });
    const onAbort = () => xhr.abort();
    const settle = () => signal?.removeEventListener("abort", onAbort);

    xhr.open("PUT", url);
    xhr.responseType = "text";
    xhr.setRequestHeader("X-Amz-Bearer", token);
    xhr.setRequestHeader("Idempotency-Key", idempotencyKey);
    if (options.contentType) xhr.setRequestHeader("Content-Type", options.contentType);
    if (options.waitForScan) xhr.setRequestHeader("Prefer", `wait=${options.waitForScan}`);
    xhr.upload.addEventListener("progress", (event) => report(event.loaded));
    xhr.upload.addEventListener("load", () => {
      report(total);
      onSent?.();
    });
    xhr.addEventListener("load", () => {
      settle();
      const body = parseJson(xhr.responseText);
      if (xhr.status === 201 && isAttachment(body)) {
        const location = xhr.getResponseHeader("Location");
        resolve({
          ...body,
          location: new URL(location ?? `./${encodeURIComponent(body.attachmentId)}`, url)
            .href,
          idempotencyKey,
        });
        return;
      }
      reject(
        problemError(
          xhr.status,
          xhr.getResponseHeader("Content-Type"),
          body,
          xhr.getResponseHeader("Retry-After"),
          idempotencyKey,
        ),
      );
    });
    xhr.addEventListener("error", () => {
      settle();
      reject(
        new UploadError(
          "network_error",
          "the upload did not reach the worker, or its answer was lost",
          {
            idempotencyKey,
          },
        ),
      );
    });
    xhr.addEventListener("abort", () => {
      settle();
      reject(signal?.aborted ? abortReason(signal) : new DOMException("aborted", "AbortError"));
    });
    signal?.addEventListener("abort", onAbort, { once: true });
    xhr.send(file);
  });
}

/**
 * The worker URL of an attachment's bytes. Fetching it needs the token in a header (see
 * {@link downloadFile}); the URL itself never carries it.
 *
 * @param endpoint The worker's base URL, or `""` for the page's origin.
 * @param attachmentId The attachment id.
 * @returns The absolute URL.
 *
 * @example
 * ```ts ignore
 * import { downloadUrl } from "./browser.ts";
 * downloadUrl("http://127.0.0.1:8787", "a1b2"); // "http://127.0.0.1:8787/attachments/a1b2"
 * ```
 */
export function downloadUrl(endpoint: string | URL, attachmentId: string): string {
  return attachmentUrl(endpoint, attachmentId);
}

/** Options of {@link downloadFile}. */
export interface DownloadOptions {
  /** The worker's base URL, or `""` for the page's origin. */
  endpoint: string | URL;
  /** The participant's ConnectionToken, sent as `X-Amz-Bearer`. */
  token: string;
  /** Cancels the download. */
  signal?: AbortSignal;
}

/**
 * Fetches an attachment's bytes back through the worker (`GET /attachments/{id}`).
 *
 * @param attachmentId The attachment id.
 * @param options The worker and the token.
 * @returns The bytes, typed with the attachment's MIME type.
 * @throws {UploadError} With the worker's `code` and message when it refuses.
 *
 * @example Save an attachment as a file
 * ```ts ignore
 * import { downloadFile } from "./browser.ts";
 * const blob = await downloadFile(id, { endpoint: "", token });
 * const link = Object.assign(document.createElement("a"), {
 *   href: URL.createObjectURL(blob),
 *   download: "report.pdf",
 * });
 * link.click();
 * ```
 */
export async function downloadFile(
  attachmentId: string,
  options: DownloadOptions,
): Promise<Blob> {
  let response: Response;
  try {
    response = await fetch(downloadUrl(options.endpoint, attachmentId), {
      headers: { "X-Amz-Bearer": options.token },
      signal: options.signal,
    });
  } catch (error) {
    if (options.signal?.aborted) throw error;
    throw new UploadError("network_error", "the download did not reach the worker", {
      stage: "download",
    });
  }
  if (response.ok) return await response.blob();
  const text = await response.text().catch(() => "");
  throw problemError(
    response.status,
    response.headers.get("Content-Type"),
    parseJson(text),
    response.headers.get("Retry-After"),
    undefined,
    "download",
  );
}

/** A chat started by {@link startChat}: its ids and the participant's tokens. */
export interface ChatConnection {
  /** The contact id of the chat. */
  contactId: string;
  /** The customer's participant id. */
  participantId: string;
  /** The ConnectionToken: what {@link uploadFile} needs. */
  connectionToken: string;
  /** When the ConnectionToken expires (ISO-8601), where the service said. */
  expiry?: string;
}

/** Options of {@link startChat}. */
export interface StartChatOptions {
  /**
   * The customer's name in the chat.
   * @default {"Customer"}
   */
  displayName?: string;
  /**
   * The Amazon Connect instance.
   * @default {"local-instance"}
   */
  instanceId?: string;
  /**
   * The contact flow that runs the chat.
   * @default {"local-flow"}
   */
  contactFlowId?: string;
  /** Cancels both calls. */
  signal?: AbortSignal;
}

/**
 * Starts a chat as a customer front end does, for local development against the local
 * Participant Service: StartChatContact (`PUT /contact/chat`), then
 * CreateParticipantConnection for a ConnectionToken. In production, StartChatContact is
 * called by your back end (it needs AWS credentials), never from a browser.
 *
 * @param serviceEndpoint The Participant Service base URL, such as `http://127.0.0.1:8788`.
 * @param options The customer's name and the ids the chat belongs to.
 * @returns The chat and its ConnectionToken.
 * @throws {AttachmentError} With the service's error name and message when a call is refused.
 *
 * @example
 * ```ts ignore
 * import { startChat } from "./browser.ts";
 * const chat = await startChat("http://127.0.0.1:8788", { displayName: "Ada" });
 * console.log(chat.contactId);
 * ```
 */
export async function startChat(
  serviceEndpoint: string | URL,
  options: StartChatOptions = {},
): Promise<ChatConnection> {
  const base = String(serviceEndpoint).replace(/\/+$/, "");
  const { signal } = options;
  const contact = await serviceRequest<Record<string, unknown>>(`${base}/contact/chat`, {
    method: "PUT",
    signal,
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({
      InstanceId: options.instanceId ?? "local-instance",
      ContactFlowId: options.contactFlowId ?? "local-flow",
      ParticipantDetails: { DisplayName: options.displayName ?? "Customer" },
      ClientToken: crypto.randomUUID(),
    }),
  });
  if (contact.error) throw serviceFailure("StartChatContact", contact.error);
  const started = contact.data;
  const participantToken = started.ParticipantToken;
  if (typeof participantToken !== "string") {
    throw new AttachmentError(
      "service_unavailable",
      "connect",
      "StartChatContact answered without a ParticipantToken",
    );
  }
  const connection = await openConnection(participantCalls(base), participantToken, signal);
  return {
    contactId: String(started.ContactId),
    participantId: String(started.ParticipantId),
    ...connection,
  };
}

/** An attachment in a chat's transcript. */
export interface ChatAttachment {
  /** The attachment id. */
  AttachmentId: string;
  /** The name shown in the chat. */
  AttachmentName: string;
  /** The MIME type. */
  ContentType: string;
  /** The service's scan status: `APPROVED`, `REJECTED` or `IN_PROGRESS`. */
  Status?: string;
  /** When it joined the chat (ISO-8601). */
  AbsoluteTime?: string;
}

/**
 * Lists the attachments a chat holds, oldest first, from its transcript (GetTranscript, page
 * by page, at most 50 pages of 100 items). Only completed attachments are in a transcript.
 *
 * @param serviceEndpoint The Participant Service base URL.
 * @param connectionToken The participant's ConnectionToken.
 * @param options Cancels the calls.
 * @returns The attachments.
 * @throws {AttachmentError} With the service's error name and message when a call is refused.
 *
 * @example
 * ```ts ignore
 * import { chatAttachments } from "./browser.ts";
 * for (const item of await chatAttachments("http://127.0.0.1:8788", token)) {
 *   console.log(item.AttachmentName, item.Status);
 * }
 * ```
 */
export async function chatAttachments(
  serviceEndpoint: string | URL,
  connectionToken: string,
  options: { signal?: AbortSignal } = {},
): Promise<ChatAttachment[]> {
  const client = participantCalls(String(serviceEndpoint).replace(/\/+$/, ""));
  const items = [];
  for await (const page of transcriptPages({ client, connectionToken, signal: options.signal })) {
    items.push(...page);
  }
  const found: ChatAttachment[] = [];
  // The pages come newest first: the chat's order is the other way round.
  for (const item of items.reverse()) {
    if (!Array.isArray(item.Attachments)) continue;
    for (const attachment of item.Attachments) {
      if (typeof attachment.AttachmentId !== "string") continue;
      found.push({
        AttachmentId: attachment.AttachmentId,
        AttachmentName: String(attachment.AttachmentName ?? attachment.AttachmentId),
        ContentType: String(attachment.ContentType ?? "application/octet-stream"),
        Status: typeof attachment.Status === "string" ? attachment.Status : undefined,
        AbsoluteTime: typeof item.AbsoluteTime === "string" ? item.AbsoluteTime : undefined,
      });
    }
  }
  return found;
}

/**
 * The Participant Service calls the browser client makes, over `fetch`, so that the one
 * connection request and the one transcript walker (in `_core/`) serve it too.
 */
function participantCalls(
  base: string,
): Pick<ParticipantCalls, "createParticipantConnection" | "getTranscript"> {
  const call = <T>(path: string, token: string, input: unknown, options?: CallOptions) =>
    serviceRequest<T>(`${base}${path}`, {
      method: "POST",
      signal: options?.signal,
      headers: { "Content-Type": "application/json", "X-Amz-Bearer": token },
      body: JSON.stringify(input ?? {}),
    });
  return {
    createParticipantConnection: (token, input, options) =>
      call("/participant/connection", token, input, options),
    async getTranscript(token, input, options) {
      const result = await call<Record<string, unknown>>(
        "/participant/transcript",
        token,
        input,
        options,
      );
      if (result.error) return result;
      // Only what a walk reads, whatever else the answer holds.
      const { Transcript, NextToken } = result.data;
      return {
        data: {
          Transcript: Array.isArray(Transcript) ? Transcript : [],
          NextToken: typeof NextToken === "string" ? NextToken : undefined,
        },
        response: result.response,
      };
    },
  };
}

/** One call to the Participant Service over `fetch`: its answer, or its error as a value. */
async function serviceRequest<T>(url: string, init: RequestInit): Promise<ParticipantResult<T>> {
  const response = await fetch(url, init);
  const body = parseJson(await response.text());
  if (!response.ok) return { error: parseServiceError(response, body), response };
  return { data: (typeof body === "object" && body !== null ? body : {}) as T, response };
}

function attachmentUrl(endpoint: string | URL, segment: string): string {
  return new URL(`attachments/${encodeURIComponent(segment)}`, baseOf(endpoint)).href;
}

/** The worker's base URL with one trailing slash; `""` is the page's origin. */
function baseOf(endpoint: string | URL): string {
  const base = String(endpoint) === "" ? location.origin : String(endpoint);
  return base.replace(/\/*$/, "/");
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isAttachment(body: unknown): body is WorkerAttachment {
  return typeof body === "object" && body !== null &&
    typeof (body as Record<string, unknown>).attachmentId === "string";
}

function problemError(
  status: number,
  contentType: string | null,
  body: unknown,
  retryAfter: string | null,
  idempotencyKey?: string,
  stage?: AttachmentStage,
): UploadError {
  const seconds = retryAfter === null ? NaN : Number(retryAfter);
  const retryAfterSeconds = Number.isFinite(seconds) ? seconds : undefined;
  const isProblem = typeof body === "object" && body !== null &&
    (contentType?.includes("json") ?? false);
  if (isProblem) {
    const problem = body as WorkerProblem;
    const message = problem.detail ?? problem.title ?? `HTTP ${status}`;
    return new UploadError(problem.code ?? "unexpected_response", message, {
      status,
      idempotencyKey,
      problem,
      retryAfterSeconds,
      stage,
    });
  }
  return new UploadError("unexpected_response", `the worker answered HTTP ${status}`, {
    status,
    idempotencyKey,
    retryAfterSeconds,
    stage,
  });
}

function abortReason(signal: AbortSignal): unknown {
  return signal.reason ?? new DOMException("aborted", "AbortError");
}
