/**
 * The Participant Service's calls as typed methods over a JSON `POST`: the worker uses them as
 * they are, and {@link createParticipantClient} adds the openapi-fetch client (and its
 * middleware) underneath.
 *
 * @module
 */

import type { Middleware } from "npm:openapi-fetch@0.17.0";
import type { components } from "../../generated/participant.ts";
import { type EndpointOptions, participantEndpoint } from "./endpoint.ts";
import { parseServiceError, type ParticipantServiceError, transportError } from "./upstream.ts";
import { retryingFetch, type RetryOptions } from "./retry.ts";

/** @internal The request and response shapes, from `openapi.yaml`. */
type Schemas = components["schemas"];
/** @internal openapi-fetch middleware. */
type ClientMiddleware = Middleware;

/**
 * Options of {@link createParticipantClient}.
 *
 * @example
 * ```ts
 * import type { ParticipantClientOptions } from "./participant_calls.ts";
 * const options: ParticipantClientOptions = {
 *   region: "eu-west-2",
 *   retry: { maxAttempts: 5 },
 * };
 * ```
 */
export interface ParticipantClientOptions extends EndpointOptions {
  /**
   * The `fetch` to send requests with.
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
  /**
   * How throttled, failed or unanswered calls are tried again; `false` sends each call once.
   * @default {{ maxAttempts: 3, baseDelayMs: 100, maxDelayMs: 5000, deadlineMs: 30000 }}
   */
  retry?: RetryOptions | false;
  /** openapi-fetch middleware, run on every call (for logging, tracing, headers). */
  middleware?: ClientMiddleware[];
}

/**
 * Per-call options.
 *
 * @example
 * ```ts
 * import type { CallOptions } from "./participant_calls.ts";
 * const call: CallOptions = { signal: AbortSignal.timeout(5_000) };
 * ```
 */
export interface CallOptions {
  /** Cancels the call, retries included. */
  signal?: AbortSignal;
}

/**
 * What every call resolves to: `data` on success, `error` otherwise; never both. `response`
 * is absent only where no answer came.
 *
 * @example
 * ```ts
 * import type { ParticipantResult } from "./participant_calls.ts";
 * function attachmentIdOf(result: ParticipantResult<{ AttachmentId?: string }>): string {
 *   if (result.error) throw new Error(`${result.error.name}: ${result.error.message}`);
 *   return result.data.AttachmentId ?? "";
 * }
 * ```
 */
export type ParticipantResult<T> =
  | { data: T; error?: undefined; response: Response }
  | { data?: undefined; error: ParticipantServiceError; response?: Response };

/**
 * StartAttachmentUpload's input; `ClientToken` is filled with a UUID when left out.
 *
 * @example
 * ```ts
 * import type { StartAttachmentUploadInput } from "./participant_calls.ts";
 * const input: StartAttachmentUploadInput = {
 *   AttachmentName: "report.pdf",
 *   ContentType: "application/pdf",
 *   AttachmentSizeInBytes: 1024,
 * };
 * ```
 */
export type StartAttachmentUploadInput =
  & Omit<Schemas["StartAttachmentUploadRequest"], "ClientToken">
  & { ClientToken?: string };

/**
 * CompleteAttachmentUpload's input; `ClientToken` is filled with a UUID when left out.
 *
 * @example
 * ```ts
 * import type { CompleteAttachmentUploadInput } from "./participant_calls.ts";
 * const input: CompleteAttachmentUploadInput = { AttachmentIds: ["attachment-id"] };
 * ```
 */
export type CompleteAttachmentUploadInput =
  & Omit<Schemas["CompleteAttachmentUploadRequest"], "ClientToken">
  & { ClientToken?: string };

/**
 * The Participant Service's calls, typed from `openapi.yaml`: what a
 * {@link ParticipantClient} offers besides its `raw` openapi-fetch client. Each method takes
 * the bearer token first.
 *
 * @example
 * ```ts
 * import type { ParticipantCalls } from "./participant_calls.ts";
 * async function transcriptLength(client: ParticipantCalls, token: string): Promise<number> {
 *   const { data, error } = await client.getTranscript(token, { MaxResults: 100 });
 *   return error ? 0 : data.Transcript?.length ?? 0;
 * }
 * ```
 */
export interface ParticipantCalls {
  /** The base URL calls go to. */
  readonly baseUrl: string;
  /** CreateParticipantConnection, with a ParticipantToken. */
  createParticipantConnection(
    participantToken: string,
    input?: Schemas["CreateParticipantConnectionRequest"],
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["CreateParticipantConnectionResponse"]>>;
  /** StartAttachmentUpload: an attachment id and where to PUT its bytes. */
  startAttachmentUpload(
    connectionToken: string,
    input: StartAttachmentUploadInput,
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["StartAttachmentUploadResponse"]>>;
  /** CompleteAttachmentUpload: the attachment joins the chat. */
  completeAttachmentUpload(
    connectionToken: string,
    input: CompleteAttachmentUploadInput,
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["EmptyResponse"]>>;
  /** GetAttachment: a short-lived download URL. */
  getAttachment(
    connectionToken: string,
    input: Schemas["GetAttachmentRequest"],
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["GetAttachmentResponse"]>>;
  /** GetTranscript: one page of the chat's items. */
  getTranscript(
    connectionToken: string,
    input?: Schemas["GetTranscriptRequest"],
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["GetTranscriptResponse"]>>;
  /** SendMessage: a text message into the chat. */
  sendMessage(
    connectionToken: string,
    input: Schemas["SendMessageRequest"],
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["SendMessageResponse"]>>;
  /** DisconnectParticipant: the token stops working. */
  disconnectParticipant(
    connectionToken: string,
    input?: Schemas["DisconnectParticipantRequest"],
    options?: CallOptions,
  ): Promise<ParticipantResult<Schemas["EmptyResponse"]>>;
}

/**
 * One `POST` of a JSON body with the bearer token, resolving to the parsed answer: `data` for
 * 2xx, `error` (the parsed body, or its text) otherwise. It throws where no answer came.
 *
 * @example
 * ```ts ignore
 * import type { JsonPost } from "./participant_calls.ts";
 * const post: JsonPost = async (path, token, body) => ({ data: {}, response: new Response("{}") });
 * ```
 */
export type JsonPost = (
  path: string,
  token: string,
  body: unknown,
  signal?: AbortSignal,
) => Promise<{ data?: unknown; error?: unknown; response: Response }>;

/**
 * The calls over a given `POST`: each fills its `ClientToken` where the input has none, and
 * settles to `{ data }` or `{ error }` (a {@link ParticipantServiceError}).
 *
 * @param baseUrl The base URL the `POST` sends to.
 * @param post The `POST`.
 * @returns The calls.
 *
 * @example
 * ```ts ignore
 * import { callsOver, jsonPost } from "./participant_calls.ts";
 * const calls = callsOver("http://127.0.0.1:8788", jsonPost("http://127.0.0.1:8788", fetch));
 * ```
 */
export function callsOver(baseUrl: string, post: JsonPost): ParticipantCalls {
  const call = <T>(path: string, token: string, body: unknown, options?: CallOptions) =>
    settle<T>(post(path, token, body, options?.signal), options);
  const withToken = <T extends { ClientToken?: string }>(input: T) => ({
    ...input,
    ClientToken: input.ClientToken ?? crypto.randomUUID(),
  });
  return {
    baseUrl,
    createParticipantConnection: (token, input = {}, options) =>
      call("/participant/connection", token, input, options),
    startAttachmentUpload: (token, input, options) =>
      call("/participant/start-attachment-upload", token, withToken(input), options),
    completeAttachmentUpload: (token, input, options) =>
      call("/participant/complete-attachment-upload", token, withToken(input), options),
    getAttachment: (token, input, options) =>
      call("/participant/attachment", token, input, options),
    getTranscript: (token, input = {}, options) =>
      call("/participant/transcript", token, input, options),
    sendMessage: (token, input, options) => call("/participant/message", token, input, options),
    disconnectParticipant: (token, input = {}, options) =>
      call("/participant/disconnect", token, input, options),
  };
}

/**
 * A {@link JsonPost} on a `fetch`.
 *
 * @param baseUrl The base URL.
 * @param fetchFn The `fetch`.
 * @returns The `POST`.
 *
 * @example
 * ```ts ignore
 * import { jsonPost } from "./participant_calls.ts";
 * const post = jsonPost("http://127.0.0.1:8788", fetch);
 * ```
 */
export function jsonPost(baseUrl: string, fetchFn: typeof fetch): JsonPost {
  return async (path, token, body, signal) => {
    const response = await fetchFn(`${baseUrl}${path}`, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Amz-Bearer": token },
      body: JSON.stringify(body),
      signal,
    });
    const text = await response.text();
    let parsed: unknown = text || undefined;
    try {
      parsed = JSON.parse(text);
    } catch {
      // Empty, or not JSON: the text (if any) is what the answer says.
    }
    return response.ok ? { data: parsed, response } : { error: parsed, response };
  };
}

/**
 * The `fetch` that calls go out with: the given one (or the global one), retried as
 * `options.retry` says.
 *
 * @param options The `fetch` and the retries.
 * @returns The `fetch`.
 *
 * @example
 * ```ts ignore
 * import { callingFetch } from "./participant_calls.ts";
 * const send = callingFetch({ retry: { maxAttempts: 5 } });
 * ```
 */
export function callingFetch(
  options: Pick<ParticipantClientOptions, "fetch" | "retry">,
): typeof fetch {
  const baseFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  return options.retry === false ? baseFetch : retryingFetch(baseFetch, options.retry);
}

/**
 * The Participant Service's calls without openapi-fetch underneath, for where every byte
 * counts (the worker). Calls behave as a {@link createParticipantClient} client's do;
 * `middleware` is not run.
 *
 * @param options Where to send calls, the `fetch` and the retries.
 * @returns The calls.
 *
 * @example
 * ```ts ignore
 * import { createParticipantCalls } from "./participant_calls.ts";
 * const calls = createParticipantCalls({ endpoint: "http://127.0.0.1:8788" });
 * const { error } = await calls.getTranscript(connectionToken);
 * ```
 */
export function createParticipantCalls(
  options: Omit<ParticipantClientOptions, "middleware">,
): ParticipantCalls {
  const baseUrl = participantEndpoint(options);
  return callsOver(baseUrl, jsonPost(baseUrl, callingFetch(options)));
}

async function settle<T>(
  pending: Promise<{ data?: unknown; error?: unknown; response: Response }>,
  call: CallOptions | undefined,
): Promise<ParticipantResult<T>> {
  try {
    const { data, error, response } = await pending;
    if (response.ok) return { data: (data ?? {}) as T, response };
    return { error: parseServiceError(response, error), response };
  } catch (error) {
    if (call?.signal?.aborted) throw error;
    return { error: transportError(error) };
  }
}
