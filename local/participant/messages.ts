/**
 * SendMessage (a message in the transcript, idempotent by ClientToken) and SendEvent (typing,
 * receipts and connection acknowledgements: pushed to the chat's websockets, not kept in the
 * transcript).
 *
 * @module
 */

import type { Hono } from "hono";
import { connectedParticipant, type ServiceParts } from "./context.ts";
import { ServiceFault } from "./errors.ts";
import type { Item } from "./store.ts";
import { readJson, validator } from "./validate.ts";

const MESSAGE_TYPES = new Set([
  "text/plain",
  "text/markdown",
  "application/json",
  "application/vnd.amazonaws.connect.message.interactive.response",
]);

/** The event content types SendEvent takes, with the item type each becomes. */
const EVENT_TYPES: Record<string, Item["Type"]> = {
  "application/vnd.amazonaws.connect.event.typing": "TYPING",
  "application/vnd.amazonaws.connect.event.connection.acknowledged": "CONNECTION_ACK",
  "application/vnd.amazonaws.connect.event.message.delivered": "MESSAGE_DELIVERED",
  "application/vnd.amazonaws.connect.event.message.read": "MESSAGE_READ",
};

/**
 * Adds SendMessage and SendEvent to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * messageRoutes(app, parts);
 * ```
 */
export function messageRoutes(app: Hono, parts: ServiceParts): void {
  const messages = new Map<string, Item>();

  app.post("/participant/message", async (c) => {
    const participant = connectedParticipant(parts, c);
    const body = await readJson(c);
    const check = validator(body);
    const contentType = check.string("ContentType", 1, 100)!;
    const content = check.string("Content", 1, 16384)!;
    const clientToken = check.string("ClientToken", 0, 500, false);
    if (!MESSAGE_TYPES.has(contentType)) {
      throw new ServiceFault(
        "ValidationException",
        `ContentType must be one of ${[...MESSAGE_TYPES].join(", ")}`,
      );
    }
    const key = clientToken ? `${participant.participantId}|${clientToken}` : undefined;
    let item = key ? messages.get(key) : undefined;
    if (!item) {
      item = parts.store.addItem(participant, {
        Type: "MESSAGE",
        ContentType: contentType,
        Content: content,
      });
      if (key) messages.set(key, item);
    }
    return c.json({ Id: item.Id, AbsoluteTime: item.AbsoluteTime });
  });

  app.post("/participant/event", async (c) => {
    const participant = connectedParticipant(parts, c);
    const body = await readJson(c);
    const check = validator(body);
    const contentType = check.string("ContentType", 1, 100)!;
    const content = check.string("Content", 1, 16384, false);
    check.string("ClientToken", 0, 500, false);
    const type = EVENT_TYPES[contentType];
    if (!type) {
      throw new ServiceFault(
        "ValidationException",
        `ContentType must be one of ${Object.keys(EVENT_TYPES).join(", ")}`,
      );
    }
    const item = parts.store.sendItem(participant, {
      Type: type,
      ContentType: contentType,
      ...(content === undefined ? {} : { Content: content }),
    });
    return c.json({ Id: item.Id, AbsoluteTime: item.AbsoluteTime });
  });
}
