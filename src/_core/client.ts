/**
 * The typed client for the Amazon Connect Participant Service, on openapi-fetch: every call is
 * an openapi-fetch `POST` typed from `openapi.yaml` (path, `X-Amz-Bearer` header, body and
 * answer), with errors as values, retries that keep the `ClientToken`, and the caller's
 * middleware. The library and the worker share this one client.
 *
 * @module
 */

import createClient, { type Client, type Middleware } from "npm:openapi-fetch@0.17.0";
import type { components, paths } from "../../generated/participant.ts";
import { type EndpointOptions, participantEndpoint } from "./endpoint.ts";
import { parseServiceError, type ParticipantServiceError, transportError } from "./upstream.ts";
import { retryingFetch, type RetryOptions } from "./retry.ts";

/** @internal The request and response shapes, from `openapi.yaml`. */
type Schemas = components["schemas"];
/** @internal The openapi-fetch client typed from `openapi.yaml`. */
type RawClient = Client<paths>;
/** @internal openapi-fetch middleware. */
type ClientMiddleware = Middleware;

/**
 * Options of {@link createParticipantClient}.
 *
 * @example
 * ```ts
 * import type { ParticipantClientOptions } from "./client.ts";
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
 * import type { CallOptions } from "./client.ts";
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
 * import type { ParticipantResult } from "./client.ts";
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
 * import type { StartAttachmentUploadInput } from "./client.ts";
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
 * import type { CompleteAttachmentUploadInput } from "./client.ts";
 * const input: CompleteAttachmentUploadInput = { AttachmentIds: ["attachment-id"] };
 * ```
 */
export type CompleteAttachmentUploadInput =
  & Omit<Schemas["CompleteAttachmentUploadRequest"], "ClientToken">
  & { ClientToken?: string };

/**
 * The Participant Service's calls, typed from `openapi.yaml`: what the project's functions
 * need of a client. Each method takes the bearer token first.
 *
 * @example
 * ```ts
 * import type { ParticipantCalls } from "./client.ts";
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
 * A Participant Service client: the calls, and the openapi-fetch client they go through.
 *
 * @example
 * ```ts
 * import type { ParticipantClient } from "./client.ts";
 * async function transcriptLength(client: ParticipantClient, token: string): Promise<number> {
 *   const { data, error } = await client.getTranscript(token, { MaxResults: 100 });
 *   return error ? 0 : data.Transcript?.length ?? 0;
 * }
 * ```
 */
export interface ParticipantClient extends ParticipantCalls {
  /** The underlying openapi-fetch client, typed from `openapi.yaml`, for anything else. */
  readonly raw: RawClient;
}

/**
 * Creates a Participant Service client for a region or any endpoint. Calls return errors as
 * values (`{ error }`), retry 429 and 5xx answers with jittered backoff and the same
 * `ClientToken`, and work wherever `fetch` does: Deno, workerd, Node 20 and browsers.
 *
 * @param options Where to send calls, and how.
 * @returns The client.
 *
 * @example Start an upload against the local service
 * ```ts ignore
 * import { createParticipantClient } from "./client.ts";
 * const client = createParticipantClient({ endpoint: "http://127.0.0.1:8788" });
 * const { data, error } = await client.startAttachmentUpload(connectionToken, {
 *   AttachmentName: "report.pdf",
 *   ContentType: "application/pdf",
 *   AttachmentSizeInBytes: 1024,
 * });
 * if (error) console.error(error.name, error.message);
 * else console.log(data.AttachmentId);
 * ```
 */
export function createParticipantClient(options: ParticipantClientOptions): ParticipantClient {
  const baseUrl = participantEndpoint(options);
  const baseFetch = options.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const raw = createClient<paths>({
    baseUrl,
    fetch: options.retry === false ? baseFetch : retryingFetch(baseFetch, options.retry),
  });
  if (options.middleware?.length) raw.use(...options.middleware);
  const bearer = (token: string) => ({ header: { "X-Amz-Bearer": token } });
  const withClientToken = <T extends { ClientToken?: string }>(input: T) => ({
    ...input,
    ClientToken: input.ClientToken ?? crypto.randomUUID(),
  });
  return {
    baseUrl,
    raw,
    createParticipantConnection: (token, body = {}, call) =>
      settle(
        raw.POST("/participant/connection", { params: bearer(token), body, signal: call?.signal }),
        call,
      ),
    startAttachmentUpload: (token, input, call) =>
      settle(
        raw.POST("/participant/start-attachment-upload", {
          params: bearer(token),
          body: withClientToken(input),
          signal: call?.signal,
        }),
        call,
      ),
    completeAttachmentUpload: (token, input, call) =>
      settle(
        raw.POST("/participant/complete-attachment-upload", {
          params: bearer(token),
          body: withClientToken(input),
          signal: call?.signal,
        }),
        call,
      ),
    getAttachment: (token, body, call) =>
      settle(
        raw.POST("/participant/attachment", { params: bearer(token), body, signal: call?.signal }),
        call,
      ),
    getTranscript: (token, body = {}, call) =>
      settle(
        raw.POST("/participant/transcript", { params: bearer(token), body, signal: call?.signal }),
        call,
      ),
    sendMessage: (token, body, call) =>
      settle(
        raw.POST("/participant/message", { params: bearer(token), body, signal: call?.signal }),
        call,
      ),
    disconnectParticipant: (token, body = {}, call) =>
      settle(
        raw.POST("/participant/disconnect", { params: bearer(token), body, signal: call?.signal }),
        call,
      ),
  };
}

/**
 * An openapi-fetch answer as a {@link ParticipantResult}: `data` for 2xx (an empty object
 * where the answer had no body), a {@link ParticipantServiceError} otherwise, and a transport
 * error where no answer came (unless the caller cancelled: that rejects).
 */
async function settle<T>(
  pending: Promise<{ data?: T; error?: unknown; response: Response }>,
  call: CallOptions | undefined,
): Promise<ParticipantResult<T>> {
  try {
    const { data, error, response } = await pending;
    if (response.ok) return { data: data ?? ({} as T), response };
    return { error: parseServiceError(response, error), response };
  } catch (error) {
    if (call?.signal?.aborted) throw error;
    return { error: transportError(error) };
  }
}
