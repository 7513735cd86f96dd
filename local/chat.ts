/**
 * Starting a chat and connecting to it, as a customer front end does: StartChatContact, then
 * CreateParticipantConnection.
 *
 * @module
 */

import type { ParticipantClient } from "../src/_core/client.ts";

/** A connected chat participant. */
export interface ChatSession {
  contactId: string;
  participantId: string;
  participantToken: string;
  connectionToken: string;
}

/**
 * Starts a chat through `PUT /contact/chat` on the client's endpoint (the local service
 * answers it with any instance and flow id) and connects the customer to it.
 *
 * @param client A client pointed at the local service.
 * @param displayName The customer's name in the chat.
 * @returns The contact, participant and both tokens.
 *
 * @example
 * ```ts ignore
 * import { createParticipantClient } from "../src/_core/client.ts";
 * import { openChat } from "./chat.ts";
 * const client = createParticipantClient({ endpoint: "http://127.0.0.1:8788" });
 * const { connectionToken } = await openChat(client);
 * ```
 */
export async function openChat(
  client: ParticipantClient,
  displayName = "Customer",
): Promise<ChatSession> {
  const started = await client.raw.PUT("/contact/chat", {
    body: {
      InstanceId: "local-instance",
      ContactFlowId: "local-flow",
      ParticipantDetails: { DisplayName: displayName },
      ClientToken: crypto.randomUUID(),
    },
  });
  if (!started.data?.ParticipantToken) {
    throw new Error(`StartChatContact failed with HTTP ${started.response.status}`);
  }
  const { data, error } = await client.createParticipantConnection(started.data.ParticipantToken, {
    Type: ["CONNECTION_CREDENTIALS"],
    ConnectParticipant: true,
  });
  if (error) throw new Error(`CreateParticipantConnection failed: ${error.name}: ${error.message}`);
  return {
    contactId: started.data.ContactId!,
    participantId: started.data.ParticipantId!,
    participantToken: started.data.ParticipantToken,
    connectionToken: data.ConnectionCredentials!.ConnectionToken!,
  };
}
