/**
 * The participant websocket, speaking the protocol of Amazon Connect's chat transport as the
 * official clients (amazon-connect-chatjs's websocket manager) speak it. Frames are JSON text
 * `{"topic", "content"}`:
 *
 * - `aws/subscribe` `{"topics": ["aws/chat"]}` is answered
 *   `{"topic":"aws/subscribe","content":{"status":"success","topics":["aws/chat"]}}`;
 * - `aws/heartbeat` is echoed; `aws/ping` is answered with `"statusCode": 200`;
 * - every transcript item of the chat (messages, attachments, joins, departures, scan
 *   verdicts) is pushed to each subscribed socket of the chat as
 *   `{"topic":"aws/chat","content":"<the item as a JSON string>"}`.
 *
 * A URL from CreateParticipantConnection must be used within 100 s, as the real one; a
 * participant's sockets close when it disconnects, every socket of a chat when the chat ends.
 *
 * @module
 */

import type { Hono } from "hono";
import { type Chat, type Item, newToken, type Participant, type Store } from "./store.ts";

/** How long a websocket URL may be used to connect, as on the real service. */
export const WEBSOCKET_URL_TTL_MS = 100_000;

/** The path websocket URLs name. */
export const WEBSOCKET_PATH = "/websocket";

/** The only topic a chat participant subscribes to. */
const CHAT_TOPIC = "aws/chat";

interface OpenSocket {
  socket: WebSocket;
  participant: Participant;
  subscribed: boolean;
}

/**
 * The websockets of every chat: issues URLs, upgrades connections, answers the protocol and
 * pushes each transcript item of a chat to its participants.
 *
 * @example
 * ```ts ignore
 * const sockets = new ChatSockets(store);
 * sockets.route(app); // before any middleware
 * const { url } = sockets.issueUrl(participant, new URL("http://127.0.0.1:8788/"));
 * ```
 */
export class ChatSockets {
  readonly #tickets = new Map<string, { participant: Participant; expiresAt: number }>();
  readonly #open = new Map<Chat, Set<OpenSocket>>();
  readonly #log?: (line: string) => void;
  readonly #urlTtlMs: number;

  /**
   * @param store Whose items are pushed.
   * @param options How long a URL may be used, and a log told of each connection (never its
   * URL).
   */
  constructor(
    store: Store,
    options: { urlTtlMs?: number; log?: (line: string) => void } = {},
  ) {
    this.#log = options.log;
    this.#urlTtlMs = options.urlTtlMs ?? WEBSOCKET_URL_TTL_MS;
    store.onItem((chat, item) => this.push(chat, item));
  }

  /**
   * Serves the websocket path. Register it before any middleware: an upgrade answer must
   * leave the app untouched.
   * @param app The service's app.
   */
  route(app: Hono): void {
    app.get(WEBSOCKET_PATH, (c) => this.accept(c.req.raw));
  }

  /**
   * Issues a websocket URL for a participant, usable for {@link WEBSOCKET_URL_TTL_MS}. It
   * names the host the participant called, with `ws:`.
   * @param participant Who connects with it.
   * @param calledUrl The URL of the CreateParticipantConnection request.
   */
  issueUrl(participant: Participant, calledUrl: URL): { url: string; expiresAt: Date } {
    const now = Date.now();
    for (const [ticket, { expiresAt }] of this.#tickets) {
      if (expiresAt <= now) this.#tickets.delete(ticket);
    }
    const ticket = newToken();
    const expiresAt = now + this.#urlTtlMs;
    this.#tickets.set(ticket, { participant, expiresAt });
    const url = new URL(WEBSOCKET_PATH, calledUrl);
    url.protocol = calledUrl.protocol === "https:" ? "wss:" : "ws:";
    url.search = new URLSearchParams({ ticket }).toString();
    return { url: url.href, expiresAt: new Date(expiresAt) };
  }

  /**
   * Upgrades a request for a websocket URL; 403 when the URL is unknown or expired or its
   * participant can no longer take part, 400 when the request is no websocket handshake.
   * @param request The request, as `Deno.serve` gave it.
   */
  accept(request: Request): Response {
    const ticket = new URL(request.url).searchParams.get("ticket") ?? "";
    const entry = this.#tickets.get(ticket);
    if (!entry || entry.expiresAt <= Date.now()) {
      this.#log?.(`GET ${WEBSOCKET_PATH} 403 unknown or expired websocket URL`);
      return refusal(403, "The websocket URL is unknown or expired; ask for a new one");
    }
    const { participant } = entry;
    if (participant.disconnected || participant.chat.ended) {
      this.#log?.(`GET ${WEBSOCKET_PATH} 403 participant disconnected`);
      return refusal(403, "The participant is disconnected or the chat has ended");
    }
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return refusal(400, "This URL takes a websocket handshake");
    }
    const { socket, response } = Deno.upgradeWebSocket(request);
    const open: OpenSocket = { socket, participant, subscribed: false };
    const chat = participant.chat;
    socket.onopen = () => {
      let set = this.#open.get(chat);
      if (!set) this.#open.set(chat, set = new Set());
      set.add(open);
    };
    socket.onmessage = (event) => answer(open, event.data);
    socket.onclose = () => {
      const set = this.#open.get(chat);
      set?.delete(open);
      if (set?.size === 0) this.#open.delete(chat);
    };
    socket.onerror = () => {};
    this.#log?.(`GET ${WEBSOCKET_PATH} 101 websocket of a ${participant.role.toLowerCase()}`);
    return response;
  }

  /**
   * Pushes an item to every subscribed socket of its chat.
   * @param chat The chat.
   * @param item The item.
   */
  push(chat: Chat, item: Item): void {
    const frame = JSON.stringify({ topic: CHAT_TOPIC, content: JSON.stringify(item) });
    for (const open of this.#open.get(chat) ?? []) {
      if (open.subscribed && open.socket.readyState === WebSocket.OPEN) open.socket.send(frame);
    }
  }

  /**
   * How many sockets of a chat are open, and how many of them subscribed to `aws/chat` (only
   * those get the chat's items), for tests and the development endpoints.
   * @param chat The chat.
   * @param participant Only this participant's.
   */
  counts(chat: Chat, participant?: Participant): { open: number; subscribed: number } {
    const sockets = [...this.#open.get(chat) ?? []]
      .filter((o) => !participant || o.participant === participant);
    return { open: sockets.length, subscribed: sockets.filter((o) => o.subscribed).length };
  }

  /**
   * Closes a participant's sockets (it disconnected).
   * @param participant The participant.
   */
  closeParticipant(participant: Participant): void {
    for (const open of this.#open.get(participant.chat) ?? []) {
      if (open.participant === participant) open.socket.close(1000, "participant disconnected");
    }
  }

  /**
   * Closes every socket of a chat (it ended).
   * @param chat The chat.
   */
  closeChat(chat: Chat): void {
    for (const open of this.#open.get(chat) ?? []) open.socket.close(1000, "chat ended");
  }

  /** Closes every socket (the service stops). */
  closeAll(): void {
    for (const chat of this.#open.keys()) {
      for (const open of this.#open.get(chat) ?? []) open.socket.close(1001, "service stopping");
    }
    this.#open.clear();
    this.#tickets.clear();
  }
}

/** Answers one frame from a client; frames that are not the protocol's are ignored. */
function answer(open: OpenSocket, data: unknown): void {
  let frame: { topic?: unknown; content?: { topics?: unknown } };
  try {
    frame = JSON.parse(String(data));
  } catch {
    return;
  }
  const send = (reply: unknown) => {
    if (open.socket.readyState === WebSocket.OPEN) open.socket.send(JSON.stringify(reply));
  };
  const topics = frame?.content?.topics;
  const chatTopicsOnly = Array.isArray(topics) && topics.length > 0 &&
    topics.every((t) => t === CHAT_TOPIC);
  switch (frame?.topic) {
    case "aws/subscribe":
      if (chatTopicsOnly) open.subscribed = true;
      send({
        topic: "aws/subscribe",
        content: { status: chatTopicsOnly ? "success" : "failure", topics },
      });
      break;
    case "aws/unsubscribe":
      if (chatTopicsOnly) open.subscribed = false;
      send({
        topic: "aws/unsubscribe",
        content: { status: chatTopicsOnly ? "success" : "failure", topics },
      });
      break;
    case "aws/heartbeat":
      send({ topic: "aws/heartbeat" });
      break;
    case "aws/ping":
      send({ topic: "aws/ping", statusCode: 200 });
      break;
  }
}

function refusal(status: number, message: string): Response {
  return Response.json({ Message: message }, { status });
}
