/**
 * GetTranscript: pages of a chat's items from a start position (an item id, a time, or the
 * most recent ones), in either direction and order, with an opaque NextToken.
 *
 * @module
 */

import type { Hono } from "hono";
import { connectedParticipant, type ServiceParts } from "./context.ts";
import { ServiceFault } from "./errors.ts";
import type { Item } from "./store.ts";
import { readJson, validator } from "./validate.ts";

/** GetTranscript's page size when MaxResults is absent or 0. */
const DEFAULT_TRANSCRIPT_PAGE = 10;

/** Where a transcript scan starts, as GetTranscript's StartPosition gives it. */
type Position = { id: string } | { time: string } | { mostRecent: number };

/** A position in a chat's transcript and the direction of the scan. */
interface Cursor {
  direction: "FORWARD" | "BACKWARD";
  index: number;
}

/**
 * Adds GetTranscript to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * transcriptRoutes(app, parts);
 * ```
 */
export function transcriptRoutes(app: Hono, parts: ServiceParts): void {
  app.post("/participant/transcript", async (c) => {
    const participant = connectedParticipant(parts, c);
    const body = await readJson(c);
    const check = validator(body);
    const { contactId } = participant.chat;
    const askedContact = check.string("ContactId", 1, 256, false);
    if (askedContact !== undefined && askedContact !== contactId) {
      throw new ServiceFault("ValidationException", "ContactId does not belong to this chat");
    }
    const pageSize = check.integer("MaxResults", 0, 100, false) || DEFAULT_TRANSCRIPT_PAGE;
    const nextToken = check.string("NextToken", 1, 1000, false);
    const askedDirection = check.oneOf("ScanDirection", ["FORWARD", "BACKWARD"]);
    const order = check.oneOf("SortOrder", ["ASCENDING", "DESCENDING"]) ?? "DESCENDING";
    const position = startPosition(body.StartPosition);
    const items = participant.chat.items;
    let cursor: Cursor;
    if (nextToken !== undefined) {
      const decoded = decodeCursor(nextToken, contactId, items.length);
      if (!decoded) throw new ServiceFault("ValidationException", "NextToken is not valid");
      cursor = decoded;
    } else {
      const direction = askedDirection ?? (position ? "FORWARD" : "BACKWARD");
      cursor = { direction, index: startIndex(items, position, direction) };
    }
    const step = cursor.direction === "FORWARD" ? 1 : -1;
    const page: Item[] = [];
    let next = cursor.index;
    while (page.length < pageSize && next >= 0 && next < items.length) {
      page.push(items[next]);
      next += step;
    }
    // The page was collected in scan order; FORWARD is oldest first.
    if ((order === "ASCENDING") !== (cursor.direction === "FORWARD")) page.reverse();
    const more = next >= 0 && next < items.length;
    return c.json({
      InitialContactId: contactId,
      Transcript: page,
      ...(more
        ? { NextToken: encodeCursor({ direction: cursor.direction, index: next }, contactId) }
        : {}),
    });
  });
}

function startPosition(value: unknown): Position | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "object" || Array.isArray(value)) {
    throw new ServiceFault("ValidationException", "StartPosition must be an object");
  }
  const position = value as Record<string, unknown>;
  const check = validator(position);
  const id = check.string("Id", 1, 256, false);
  const time = check.string("AbsoluteTime", 1, 100, false);
  const mostRecent = check.integer("MostRecent", 0, 100, false);
  const unknown = Object.keys(position).filter((k) =>
    !["Id", "AbsoluteTime", "MostRecent"].includes(k)
  );
  if (unknown.length > 0) {
    throw new ServiceFault("ValidationException", `StartPosition has no member ${unknown[0]}`);
  }
  // MostRecent defaults to 0 in the model: a 0 beside another member is no choice of its own.
  const zeroBeside = mostRecent === 0 && (id !== undefined || time !== undefined);
  const given = [id, time, zeroBeside ? undefined : mostRecent].filter((v) => v !== undefined);
  if (given.length > 1) {
    throw new ServiceFault(
      "ValidationException",
      "StartPosition takes one of Id, AbsoluteTime or MostRecent",
    );
  }
  if (id !== undefined) return { id };
  if (time !== undefined) {
    if (Number.isNaN(Date.parse(time))) {
      throw new ServiceFault(
        "ValidationException",
        "StartPosition.AbsoluteTime is not an ISO-8601 time",
      );
    }
    return { time };
  }
  if (mostRecent !== undefined) return { mostRecent };
  return undefined;
}

function startIndex(
  items: Item[],
  position: Position | undefined,
  direction: Cursor["direction"],
): number {
  const last = items.length - 1;
  if (!position) return direction === "FORWARD" ? 0 : last;
  if ("id" in position) {
    const index = items.findIndex((item) => item.Id === position.id);
    if (index < 0) {
      throw new ServiceFault("ValidationException", "StartPosition.Id is not in this transcript");
    }
    return index;
  }
  if ("time" in position) {
    const time = Date.parse(position.time);
    const at = (item: Item) => Date.parse(item.AbsoluteTime ?? "");
    if (direction === "FORWARD") {
      const index = items.findIndex((item) => at(item) >= time);
      return index < 0 ? items.length : index;
    }
    return items.findLastIndex((item) => at(item) <= time);
  }
  return Math.max(0, last - position.mostRecent);
}

function encodeCursor(cursor: Cursor, contactId: string): string {
  const json = JSON.stringify({ c: contactId, d: cursor.direction[0], i: cursor.index });
  return btoa(json).replaceAll("+", "-").replaceAll("/", "_").replace(/=+$/, "");
}

function decodeCursor(token: string, contactId: string, length: number): Cursor | undefined {
  try {
    const { c, d, i } = JSON.parse(atob(token.replaceAll("-", "+").replaceAll("_", "/")));
    if (c !== contactId || (d !== "F" && d !== "B")) return undefined;
    if (!Number.isSafeInteger(i) || i < 0 || i >= length) return undefined;
    return { direction: d === "F" ? "FORWARD" : "BACKWARD", index: i };
  } catch {
    return undefined;
  }
}
