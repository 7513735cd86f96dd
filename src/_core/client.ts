/**
 * A typed client for the Amazon Connect Participant Service, on openapi-fetch.
 *
 * @module
 */

import createClient, { type Client } from "npm:openapi-fetch@0.17.0";
import type { paths } from "../../generated/participant.ts";
import { participantEndpoint } from "./endpoint.ts";
import {
  callingFetch,
  callsOver,
  type JsonPost,
  type ParticipantCalls,
  type ParticipantClientOptions,
} from "./participant_calls.ts";

/** @internal The openapi-fetch client typed from `openapi.yaml`. */
type RawClient = Client<paths>;

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
  const raw = createClient<paths>({ baseUrl, fetch: callingFetch(options) });
  if (options.middleware?.length) raw.use(...options.middleware);
  // Every call goes through openapi-fetch, and so through its middleware.
  const post: JsonPost = (path, token, body, signal) =>
    raw.POST(path as "/participant/connection", {
      params: { header: { "X-Amz-Bearer": token } },
      body: body as never,
      signal,
    });
  return { ...callsOver(baseUrl, post), raw };
}
