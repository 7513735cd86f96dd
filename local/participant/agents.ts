/**
 * Development endpoints for the other side of a chat: list the chats, and join one as an
 * agent. The agent gets a ParticipantToken of its own and from there uses the Participant
 * Service as any participant does (CreateParticipantConnection for its ConnectionToken and
 * websocket; attachments both ways). Amazon Connect has no such call: an agent joins when
 * it accepts the contact in the agent workspace.
 *
 * - `GET /_local/chats`: every chat, its participants and whether it ended.
 * - `POST /_local/chats/{ContactId}/agent` with an optional `{"DisplayName": "..."}`:
 *   `{"ContactId", "ParticipantId", "ParticipantToken"}`.
 *
 * @module
 */

import type { Hono } from "hono";
import type { ServiceParts } from "./context.ts";
import { ServiceFault } from "./errors.ts";
import { readJson, validator } from "./validate.ts";

/**
 * Adds the development endpoints for agents to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * agentRoutes(app, parts);
 * ```
 */
export function agentRoutes(app: Hono, parts: ServiceParts): void {
  const { store, sockets } = parts;

  app.get("/_local/chats", (c) =>
    c.json({
      Chats: [...store.chats.values()].map((chat) => ({
        ContactId: chat.contactId,
        InstanceId: chat.instanceId,
        Ended: chat.ended,
        Participants: chat.participants.map((p) => {
          const { open, subscribed } = sockets.counts(chat, p);
          return {
            ParticipantId: p.participantId,
            DisplayName: p.displayName,
            ParticipantRole: p.role,
            Disconnected: p.disconnected,
            OpenWebsockets: open,
            SubscribedWebsockets: subscribed,
          };
        }),
      })),
    }));

  app.post("/_local/chats/:contactId/agent", async (c) => {
    const chat = store.chats.get(c.req.param("contactId"));
    if (!chat) throw new ServiceFault("ResourceNotFoundException", "No chat with that ContactId");
    if (chat.ended) throw new ServiceFault("AccessDeniedException", "The chat has ended");
    const body = await readJson(c);
    const displayName = validator(body).string("DisplayName", 1, 256, false) ?? "Agent";
    const agent = store.join(chat, "AGENT", displayName);
    parts.log?.(`agent joined chat ${chat.contactId}`);
    return c.json({
      ContactId: chat.contactId,
      ParticipantId: agent.participantId,
      ParticipantToken: agent.participantToken,
    });
  });
}
