/**
 * The local Participant Service's state: chats, participants, tokens and attachments, in
 * memory.
 *
 * @module
 */

import type { components } from "../generated/participant.ts";

/** A transcript item, as GetTranscript returns it. */
export type Item = components["schemas"]["Item"];

/** A chat started by StartChatContact. */
export interface Chat {
  contactId: string;
  instanceId: string;
  items: Item[];
  attachments: Map<string, Attachment>;
  ended: boolean;
}

/** A participant of a chat, with its tokens. */
export interface Participant {
  participantId: string;
  displayName: string;
  role: "CUSTOMER" | "AGENT";
  chat: Chat;
  participantToken: string;
  connectionToken?: string;
  connectionExpiresAt?: number;
  disconnected: boolean;
}

/** An attachment from StartAttachmentUpload on. */
export interface Attachment {
  id: string;
  name: string;
  contentType: string;
  size: number;
  key: string;
  owner: Participant;
  completed: boolean;
  /** The StartAttachmentUpload ClientToken that made it. */
  clientToken: string;
}

/** Makes an opaque, unguessable token (256 random bits, base64url). */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Every chat, participant and token the local service knows. */
export class Store {
  readonly chats: Map<string, Chat> = new Map();
  readonly #participantTokens: Map<string, Participant> = new Map();
  readonly #connectionTokens: Map<string, Participant> = new Map();
  readonly #chatsByClientToken: Map<string, Participant> = new Map();

  /**
   * Starts a chat with one customer.
   * @param instanceId The instance it belongs to.
   * @param displayName The customer's name.
   * @param clientToken StartChatContact's idempotency token.
   */
  startChat(instanceId: string, displayName: string, clientToken?: string): Participant {
    const earlier = clientToken ? this.#chatsByClientToken.get(clientToken) : undefined;
    if (earlier) return earlier;
    const chat: Chat = {
      contactId: crypto.randomUUID(),
      instanceId,
      items: [],
      attachments: new Map(),
      ended: false,
    };
    const participant: Participant = {
      participantId: crypto.randomUUID(),
      displayName,
      role: "CUSTOMER",
      chat,
      participantToken: newToken(),
      disconnected: false,
    };
    this.chats.set(chat.contactId, chat);
    this.#participantTokens.set(participant.participantToken, participant);
    if (clientToken) this.#chatsByClientToken.set(clientToken, participant);
    this.addItem(participant, {
      Type: "PARTICIPANT_JOINED",
      ContentType: "application/vnd.amazonaws.connect.event.participant.joined",
    });
    return participant;
  }

  /**
   * Gives a participant a ConnectionToken (the same one while it is valid).
   * @param participant The participant.
   * @param ttlMs How long a new token stays valid.
   */
  connect(participant: Participant, ttlMs: number): Participant {
    if (
      !participant.connectionToken || (participant.connectionExpiresAt ?? 0) <= Date.now()
    ) {
      if (participant.connectionToken) this.#connectionTokens.delete(participant.connectionToken);
      participant.connectionToken = newToken();
      participant.connectionExpiresAt = Date.now() + ttlMs;
      this.#connectionTokens.set(participant.connectionToken, participant);
    }
    return participant;
  }

  /** The participant behind a ParticipantToken, if it is usable. */
  byParticipantToken(token: string | undefined): Participant | undefined {
    const participant = token ? this.#participantTokens.get(token) : undefined;
    return participant && !participant.disconnected && !participant.chat.ended
      ? participant
      : undefined;
  }

  /** The participant behind a ConnectionToken, if it is usable (known, unexpired, connected). */
  byConnectionToken(token: string | undefined): Participant | undefined {
    const participant = token ? this.#connectionTokens.get(token) : undefined;
    if (!participant || participant.disconnected || participant.chat.ended) return undefined;
    if ((participant.connectionExpiresAt ?? 0) <= Date.now()) return undefined;
    return participant;
  }

  /**
   * Disconnects a participant: its tokens stop working.
   * @param participant The participant.
   */
  disconnect(participant: Participant): void {
    participant.disconnected = true;
    this.addItem(participant, {
      Type: "PARTICIPANT_LEFT",
      ContentType: "application/vnd.amazonaws.connect.event.participant.left",
    });
  }

  /**
   * Appends an item to the participant's chat transcript.
   * @param participant Who it is from.
   * @param item The item's own members.
   */
  addItem(participant: Participant, item: Item): Item {
    const full: Item = {
      Id: crypto.randomUUID(),
      AbsoluteTime: new Date().toISOString(),
      ParticipantId: participant.participantId,
      DisplayName: participant.displayName,
      ParticipantRole: participant.role,
      ContactId: participant.chat.contactId,
      ...item,
    };
    participant.chat.items.push(full);
    return full;
  }
}
