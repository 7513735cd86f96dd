/**
 * How the helpers find the Participant Service: a client, or an endpoint or region to make
 * one for; and which pre-signed URLs they may send bytes to or fetch bytes from.
 *
 * @module
 */

import {
  createParticipantClient,
  type ParticipantClient,
  type ParticipantClientOptions,
} from "../_core/client.ts";

/**
 * Where the helpers send their calls: a `client` you made, or the options to make one
 * (`endpoint` or `region`, `fetch`, `retry`).
 *
 * @example
 * ```ts
 * import type { ParticipantServiceOptions } from "./service_options.ts";
 * const local: ParticipantServiceOptions = { endpoint: "http://127.0.0.1:8788" };
 * const real: ParticipantServiceOptions = { region: "eu-west-2", retry: { maxAttempts: 5 } };
 * ```
 */
export interface ParticipantServiceOptions extends ParticipantClientOptions {
  /** A client to use; when given, `endpoint`, `region`, `fetch` and `retry` are ignored. */
  client?: ParticipantClient;
}

/**
 * Returns the given client, or makes one from the options.
 *
 * @param options A client, or where to send calls.
 * @returns The client.
 * @throws {TypeError} When there is no client and neither a valid endpoint nor region.
 */
export function resolveClient(options: ParticipantServiceOptions): ParticipantClient {
  if (options.client) return options.client;
  const { endpoint, region, fetch, retry, middleware } = options;
  return createParticipantClient({ endpoint, region, fetch, retry, middleware });
}

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/**
 * The default rule for pre-signed URLs: `https:` always; plain `http:` only to a loopback
 * host and only while the Participant Service itself is on a loopback host (the local
 * stack), so bytes never cross a network unencrypted.
 *
 * @param serviceUrl The Participant Service's base URL.
 * @returns A predicate over pre-signed URLs.
 */
export function defaultUrlPolicy(serviceUrl: string): (url: URL) => boolean {
  const service = new URL(serviceUrl);
  const localService = service.protocol === "http:" && LOOPBACK.has(service.hostname);
  return (url) =>
    url.protocol === "https:" ||
    (localService && url.protocol === "http:" && LOOPBACK.has(url.hostname));
}
