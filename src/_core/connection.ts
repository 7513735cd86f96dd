/**
 * From a ParticipantToken to a ConnectionToken: the one CreateParticipantConnection request and
 * the one check of its answer, for the library's `connect` and the browser client's
 * `startChat`.
 *
 * @module
 */

import type { ParticipantCalls } from "./client.ts";
import { AttachmentError } from "./errors.ts";
import { serviceFailure } from "./upstream.ts";

/**
 * CreateParticipantConnection for the connection credentials, with the participant connected.
 *
 * @param client The Participant Service client (CreateParticipantConnection is all it calls).
 * @param participantToken The ParticipantToken from StartChatContact (or the chat widget).
 * @param signal Cancels the call.
 * @returns The ConnectionToken and, where the service said, when it expires (ISO-8601).
 * @throws {AttachmentError} When the service refuses (its code from the one service-error
 * mapping), or answers without a ConnectionToken (`service_unavailable`).
 *
 * @example
 * ```ts ignore
 * import { openConnection } from "./connection.ts";
 * const { connectionToken } = await openConnection(client, participantToken);
 * ```
 */
export async function openConnection(
  client: Pick<ParticipantCalls, "createParticipantConnection">,
  participantToken: string,
  signal?: AbortSignal,
): Promise<{ connectionToken: string; expiry?: string }> {
  const { data, error } = await client.createParticipantConnection(participantToken, {
    Type: ["CONNECTION_CREDENTIALS"],
    ConnectParticipant: true,
  }, { signal });
  if (error) throw serviceFailure("CreateParticipantConnection", error);
  const credentials = data.ConnectionCredentials;
  if (typeof credentials?.ConnectionToken !== "string" || credentials.ConnectionToken === "") {
    throw new AttachmentError(
      "service_unavailable",
      "connect",
      "CreateParticipantConnection answered without a ConnectionToken",
    );
  }
  const expiry = typeof credentials.Expiry === "string" ? credentials.Expiry : undefined;
  return { connectionToken: credentials.ConnectionToken, expiry };
}
