/**
 * From a ParticipantToken to the ConnectionToken every attachment call needs.
 *
 * @module
 */

import { type ParticipantServiceOptions, resolveClient } from "./service_options.ts";
import { openConnection } from "../_core/connection.ts";

/**
 * Options of {@link connect}.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./connect.ts";
 * const options: ConnectOptions = { endpoint: "http://127.0.0.1:8788", participantToken: "…" };
 * ```
 */
export interface ConnectOptions extends ParticipantServiceOptions {
  /** The ParticipantToken from StartChatContact (or the chat widget). */
  participantToken: string;
  /** Cancels the call. */
  signal?: AbortSignal;
}

/**
 * A participant's connection to a chat.
 *
 * @example
 * ```ts
 * import type { ParticipantConnection } from "./connect.ts";
 * const connection: ParticipantConnection = {
 *   connectionToken: "…",
 *   expiry: "2026-11-20T10:00:00.000Z",
 * };
 * ```
 */
export interface ParticipantConnection {
  /** The ConnectionToken: the bearer token of every attachment call. */
  connectionToken: string;
  /** When the ConnectionToken stops working (ISO-8601), as the service said. */
  expiry?: string;
}

/**
 * Connects a chat participant (CreateParticipantConnection, asking for connection
 * credentials) and returns its ConnectionToken.
 *
 * @param options The ParticipantToken and where the service is.
 * @returns The ConnectionToken and its expiry.
 * @throws {AttachmentError} When the service refuses (such as an expired token) or
 * cannot be reached.
 *
 * @example
 * ```ts ignore
 * import { connect } from "../mod.ts";
 * const { connectionToken } = await connect({
 *   endpoint: "http://127.0.0.1:8788",
 *   participantToken: Deno.env.get("CONNECT_PARTICIPANT_TOKEN")!,
 * });
 * ```
 */
export function connect(options: ConnectOptions): Promise<ParticipantConnection> {
  return openConnection(resolveClient(options), options.participantToken, options.signal);
}
