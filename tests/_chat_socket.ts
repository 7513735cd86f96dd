/**
 * A chat as a test takes part in it: StartChatContact and CreateParticipantConnection over plain
 * HTTP, an agent joining, a file sent, and a minimal participant-websocket client that
 * subscribes to `aws/chat` as amazon-connect-chatjs does and keeps every frame the service sends.
 *
 * @module
 */

import type { components } from "../generated/participant.ts";
import { eventually } from "./_wait.ts";

/** A transcript item. */
export type Item = components["schemas"]["Item"];

/** A connected, subscribed socket and what it received. */
export interface ChatSocket {
  /** Every frame received, parsed, in order. */
  frames: { topic?: string; content?: unknown; statusCode?: number }[];
  /** The items pushed on `aws/chat`, parsed from their JSON strings. */
  items(): Item[];
  /** Waits until an item passes `match` (10 s at most) and returns it. */
  waitFor(match: (item: Item) => boolean, timeoutMs?: number): Promise<Item>;
  /** Sends a frame. */
  send(frame: unknown): void;
  /** Resolves with the close code once the socket closed. */
  closed: Promise<number>;
  close(): Promise<void>;
}

/**
 * Opens a participant websocket and subscribes to `aws/chat`; resolves once the service
 * answered the subscription.
 *
 * @param url The `Websocket.Url` from CreateParticipantConnection.
 * @returns The socket.
 */
export async function openChatSocket(url: string): Promise<ChatSocket> {
  const socket = new WebSocket(url);
  const frames: ChatSocket["frames"] = [];
  const closed = new Promise<number>((resolve) => (socket.onclose = (e) => resolve(e.code)));
  socket.onmessage = (event) => frames.push(JSON.parse(String(event.data)));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`websocket to ${new URL(url).pathname} failed`));
  });
  socket.send(JSON.stringify({ topic: "aws/subscribe", content: { topics: ["aws/chat"] } }));
  await eventually(() => frames.some((f) => f.topic === "aws/subscribe"));
  const items = () =>
    frames.filter((f) => f.topic === "aws/chat").map((f) => JSON.parse(f.content as string));
  return {
    frames,
    items,
    async waitFor(match, timeoutMs = 10_000) {
      let found: Item | undefined;
      await eventually(() => (found = items().find(match)) !== undefined, timeoutMs);
      return found!;
    },
    send: (frame) => socket.send(JSON.stringify(frame)),
    closed,
    async close() {
      if (socket.readyState !== WebSocket.CLOSED) socket.close();
      await closed;
    },
  };
}

/** What StartChatContact answers. */
export interface StartedChat {
  ContactId: string;
  ParticipantId: string;
  ParticipantToken: string;
}

/**
 * StartChatContact (`PUT /contact/chat`) on an instance, as a customer front end's backend
 * calls it.
 *
 * @param participantUrl The local service.
 * @param instanceId The Amazon Connect instance (the local service keeps settings per instance).
 * @param displayName The customer's name in the chat.
 * @returns The new contact and the customer's ParticipantToken.
 */
export async function startChatContact(
  participantUrl: string,
  instanceId: string,
  displayName = "Customer",
): Promise<StartedChat> {
  const response = await fetch(`${participantUrl}/contact/chat`, {
    method: "PUT",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      InstanceId: instanceId,
      ContactFlowId: "flow",
      ParticipantDetails: { DisplayName: displayName },
    }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`StartChatContact: ${JSON.stringify(body)}`);
  return body;
}

/** A participant's connection: its ConnectionToken and its websocket URL. */
export interface ParticipantConnection {
  connectionToken: string;
  websocketUrl: string;
  /** `Websocket.ConnectionExpiry`, as sent. */
  websocketExpiry: string;
}

/**
 * CreateParticipantConnection for a websocket and credentials, as chatjs asks for them.
 *
 * @param participantUrl The local service.
 * @param participantToken The participant's ParticipantToken.
 */
export async function connectParticipant(
  participantUrl: string,
  participantToken: string,
): Promise<ParticipantConnection> {
  const response = await fetch(`${participantUrl}/participant/connection`, {
    method: "POST",
    headers: { "x-amz-bearer": participantToken, "content-type": "application/json" },
    body: JSON.stringify({ Type: ["WEBSOCKET", "CONNECTION_CREDENTIALS"] }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`CreateParticipantConnection: ${JSON.stringify(body)}`);
  return {
    connectionToken: body.ConnectionCredentials.ConnectionToken,
    websocketUrl: body.Websocket.Url,
    websocketExpiry: body.Websocket.ConnectionExpiry,
  };
}

/**
 * Joins a chat as an agent through the local service's development endpoint.
 *
 * @param participantUrl The local service.
 * @param contactId The chat.
 * @returns The agent's ParticipantToken and id.
 */
export async function joinAsAgent(
  participantUrl: string,
  contactId: string,
): Promise<{ participantToken: string; participantId: string }> {
  const response = await fetch(`${participantUrl}/_local/chats/${contactId}/agent`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ DisplayName: "Agent Ada" }),
  });
  const body = await response.json();
  if (!response.ok) throw new Error(`agent join: ${JSON.stringify(body)}`);
  return { participantToken: body.ParticipantToken, participantId: body.ParticipantId };
}

/**
 * Sends a file into a chat over the Participant Service: StartAttachmentUpload, the PUT with
 * `HeadersToInclude`, CompleteAttachmentUpload.
 *
 * @param participantUrl The local service.
 * @param connectionToken The sender's ConnectionToken.
 * @param file Name, type and bytes.
 * @returns The AttachmentId.
 */
export async function sendFile(
  participantUrl: string,
  connectionToken: string,
  file: { name: string; type: string; bytes: Uint8Array<ArrayBuffer> },
): Promise<string> {
  const call = async (path: string, body: unknown) => {
    const response = await fetch(`${participantUrl}/participant/${path}`, {
      method: "POST",
      headers: { "x-amz-bearer": connectionToken, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
    const json = await response.json();
    if (!response.ok) throw new Error(`${path}: ${JSON.stringify(json)}`);
    return json;
  };
  const started = await call("start-attachment-upload", {
    AttachmentName: file.name,
    ContentType: file.type,
    AttachmentSizeInBytes: file.bytes.length,
    ClientToken: crypto.randomUUID(),
  });
  const put = await fetch(started.UploadMetadata.Url, {
    method: "PUT",
    headers: started.UploadMetadata.HeadersToInclude,
    body: file.bytes,
  });
  if (!put.ok) throw new Error(`PUT answered ${put.status}: ${await put.text()}`);
  await put.body?.cancel();
  await call("complete-attachment-upload", {
    AttachmentIds: [started.AttachmentId],
    ClientToken: crypto.randomUUID(),
  });
  return started.AttachmentId;
}
