/**
 * A participant's connection: CreateParticipantConnection (the ConnectionToken and the
 * websocket URL) and DisconnectParticipant (tokens stop working, sockets close).
 *
 * @module
 */

import type { Hono } from "hono";
import { connectedParticipant, type ServiceParts } from "./context.ts";
import { denied, ServiceFault } from "./errors.ts";
import { readJson, validator } from "./validate.ts";

const CONNECTION_TYPES = ["WEBSOCKET", "CONNECTION_CREDENTIALS", "WEBRTC_CONNECTION"];

/**
 * Adds CreateParticipantConnection and DisconnectParticipant to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * connectionRoutes(app, parts);
 * ```
 */
export function connectionRoutes(app: Hono, parts: ServiceParts): void {
  const { store, sockets } = parts;

  app.post("/participant/connection", async (c) => {
    const participant = store.byParticipantToken(c.req.header("x-amz-bearer"));
    if (!participant) throw denied();
    const body = await readJson(c);
    let types = ["WEBSOCKET", "CONNECTION_CREDENTIALS"];
    if (body.Type !== undefined) {
      if (
        !Array.isArray(body.Type) || body.Type.length === 0 ||
        body.Type.some((t) => !CONNECTION_TYPES.includes(t))
      ) {
        throw new ServiceFault(
          "ValidationException",
          `Type must be a non-empty list of ${CONNECTION_TYPES.join(", ")}`,
        );
      }
      types = body.Type;
    }
    if (types.includes("WEBRTC_CONNECTION")) {
      throw new ServiceFault("ValidationException", "This chat has no WebRTC capability");
    }
    if (body.ConnectParticipant !== undefined && typeof body.ConnectParticipant !== "boolean") {
      throw new ServiceFault("ValidationException", "ConnectParticipant must be true or false");
    }
    store.connect(participant, parts.connectionTtlSeconds * 1000);
    const answer: Record<string, unknown> = {};
    if (types.includes("WEBSOCKET")) {
      const socket = sockets.issueUrl(participant, new URL(c.req.url));
      answer.Websocket = { Url: socket.url, ConnectionExpiry: socket.expiresAt.toISOString() };
    }
    if (types.includes("CONNECTION_CREDENTIALS")) {
      answer.ConnectionCredentials = {
        ConnectionToken: participant.connectionToken,
        Expiry: new Date(participant.connectionExpiresAt!).toISOString(),
      };
    }
    return c.json(answer);
  });

  app.post("/participant/disconnect", async (c) => {
    const participant = connectedParticipant(parts, c);
    const body = await readJson(c);
    validator(body).string("ClientToken", 0, 500, false);
    store.disconnect(participant);
    if (participant.chat.ended) sockets.closeChat(participant.chat);
    else sockets.closeParticipant(participant);
    return c.json({});
  });
}
