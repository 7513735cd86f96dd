/**
 * The local Participant Service's state: chats, participants, tokens and attachments, in
 * memory. Every transcript item added or changed is told to the store's listeners (the
 * websockets push it to the chat's participants).
 *
 * @module
 */

import type { components } from "../../generated/participant.ts";

/** A transcript item, as GetTranscript returns it. */
export type Item = components["schemas"]["Item"];

/** Where an attachment stands in the scan. */
export type AttachmentStatus = "APPROVED" | "REJECTED" | "IN_PROGRESS";

/** A chat started by StartChatContact. */
export interface Chat {
  contactId: string;
  instanceId: string;
  items: Item[];
  attachments: Map<string, Attachment>;
  participants: Participant[];
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
  /** Where the scan stands; `APPROVED` at once when scanning is off. */
  status?: AttachmentStatus;
  /** The transcript item that shows it, once completed. */
  item?: Item;
  /** The StartAttachmentUpload ClientToken that made it. */
  clientToken: string;
}

/** Told of every item added to a transcript, changed in it, or sent without being kept. */
export type ItemListener = (chat: Chat, item: Item) => void;

/**
 * Makes an opaque, unguessable token (256 random bits, base64url).
 *
 * @returns The token.
 *
 * @example
 * ```ts ignore
 * const token = newToken();
 * ```
 */
export function newToken(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes)).replaceAll("+", "-").replaceAll("/", "_")
    .replace(/=+$/, "");
}

/** Every chat, participant and token the local service knows. */
export class Store {
  /** Chats by ContactId. */
  readonly chats: Map<string, Chat> = new Map();
  readonly #participantTokens: Map<string, Participant> = new Map();
  readonly #connectionTokens: Map<string, Participant> = new Map();
  readonly #chatsByClientToken: Map<string, Participant> = new Map();
  readonly #listeners: ItemListener[] = [];

  /**
   * Every attachment StartAttachmentUpload made, in every chat, completed or not: what the
   * suite, the benchmark and the soak look at to see what the service holds.
   *
   * @returns The attachments, chat by chat, each chat's in the order they were started.
   *
   * @example
   * ```ts ignore
   * const unfinished = store.attachments().filter((a) => !a.completed);
   * ```
   */
  attachments(): Attachment[] {
    return [...this.chats.values()].flatMap((chat) => [...chat.attachments.values()]);
  }

  /**
   * Registers a listener for transcript items.
   * @param listener Told of each item as it is added, changed or sent.
   */
  onItem(listener: ItemListener): void {
    this.#listeners.push(listener);
  }

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
      participants: [],
      ended: false,
    };
    this.chats.set(chat.contactId, chat);
    const participant = this.join(chat, "CUSTOMER", displayName);
    if (clientToken) this.#chatsByClientToken.set(clientToken, participant);
    return participant;
  }

  /**
   * Adds a participant to a running chat (as an agent accepting the contact would be).
   * @param chat The chat.
   * @param role The participant's role.
   * @param displayName The name the chat shows.
   */
  join(chat: Chat, role: Participant["role"], displayName: string): Participant {
    const participant: Participant = {
      participantId: crypto.randomUUID(),
      displayName,
      role,
      chat,
      participantToken: newToken(),
      disconnected: false,
    };
    chat.participants.push(participant);
    this.#participantTokens.set(participant.participantToken, participant);
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
    return participant && usable(participant) ? participant : undefined;
  }

  /** The participant behind a ConnectionToken, if it is usable (known, unexpired, connected). */
  byConnectionToken(token: string | undefined): Participant | undefined {
    const participant = token ? this.#connectionTokens.get(token) : undefined;
    if (!participant || !usable(participant)) return undefined;
    if ((participant.connectionExpiresAt ?? 0) <= Date.now()) return undefined;
    return participant;
  }

  /**
   * Disconnects a participant: its tokens stop working. When the customer leaves, the chat
   * ends for everyone (a `chat.ended` event follows the `participant.left` one).
   * @param participant The participant.
   */
  disconnect(participant: Participant): void {
    participant.disconnected = true;
    this.addItem(participant, {
      Type: "PARTICIPANT_LEFT",
      ContentType: "application/vnd.amazonaws.connect.event.participant.left",
    });
    if (participant.role === "CUSTOMER" && !participant.chat.ended) {
      this.addItem(participant, {
        Type: "EVENT",
        ContentType: "application/vnd.amazonaws.connect.event.chat.ended",
        ParticipantRole: "SYSTEM",
      });
      participant.chat.ended = true;
    }
  }

  /**
   * Appends an item to the participant's chat transcript and tells the listeners.
   * @param participant Who it is from.
   * @param item The item's own members.
   */
  addItem(participant: Participant, item: Item): Item {
    const full = this.#complete(participant, item);
    participant.chat.items.push(full);
    this.#tell(participant.chat, full);
    return full;
  }

  /**
   * Tells the listeners of an item without keeping it in the transcript (typing, receipts).
   * @param participant Who it is from.
   * @param item The item's own members.
   */
  sendItem(participant: Participant, item: Item): Item {
    const full = this.#complete(participant, item);
    this.#tell(participant.chat, full);
    return full;
  }

  /**
   * Tells the listeners that an item of the transcript changed (a scan verdict).
   * @param chat The chat.
   * @param item The changed item, same `Id`.
   */
  itemChanged(chat: Chat, item: Item): void {
    this.#tell(chat, item);
  }

  #complete(participant: Participant, item: Item): Item {
    return {
      Id: crypto.randomUUID(),
      AbsoluteTime: new Date().toISOString(),
      ParticipantId: participant.participantId,
      DisplayName: participant.displayName,
      ParticipantRole: participant.role,
      ContactId: participant.chat.contactId,
      ...item,
    };
  }

  #tell(chat: Chat, item: Item): void {
    for (const listener of this.#listeners) listener(chat, item);
  }
}

function usable(participant: Participant): boolean {
  return !participant.disconnected && !participant.chat.ended;
}
