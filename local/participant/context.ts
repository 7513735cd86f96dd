/**
 * What the local service's modules share: the state, the bucket, the instance settings, the
 * websockets and the scanner, and the service's limits.
 *
 * @module
 */

import type { Context } from "hono";
import type { S3Target } from "../presign.ts";
import { denied } from "./errors.ts";
import type { InstanceSettings } from "./instance_settings.ts";
import type { Scanner } from "./scanner.ts";
import type { Participant, Store } from "./store.ts";
import type { ChatSockets } from "./websocket.ts";

/**
 * How the service answers where the real service's documentation leaves the choice open;
 * changed at run time through `/_local/behaviour`.
 */
export interface ServiceBehaviour {
  /**
   * What StartAttachmentUpload gives for a ClientToken it has seen (same participant, same
   * name, type and size): `same-attachment`, the attachment it made then; `new-attachment`, a
   * new one. Nothing documents either.
   */
  repeatedClientToken: "same-attachment" | "new-attachment";
}

/** The parts of the local service every operation module is given. */
export interface ServiceParts {
  store: Store;
  s3: S3Target;
  settings: InstanceSettings;
  sockets: ChatSockets;
  /** The attachment scanner, when scanning is on. */
  scanner?: Scanner;
  /** How long a pre-signed upload URL is valid, in seconds. */
  uploadUrlTtlSeconds: number;
  /** How long a ConnectionToken is valid, in seconds. */
  connectionTtlSeconds: number;
  /** How many completed attachments one chat may hold. */
  maxAttachmentsPerChat: number;
  /** Answers the documentation leaves open. */
  behaviour: ServiceBehaviour;
  /** Told one line per event worth logging; never tokens. */
  log?: (line: string) => void;
}

/**
 * The participant behind the request's ConnectionToken (`X-Amz-Bearer`).
 *
 * @param parts The service's parts.
 * @param c The request's context.
 * @returns The participant; an AccessDeniedException is thrown when there is none.
 *
 * @example
 * ```ts ignore
 * const participant = connectedParticipant(parts, c);
 * ```
 */
export function connectedParticipant(parts: ServiceParts, c: Context): Participant {
  const participant = parts.store.byConnectionToken(c.req.header("x-amz-bearer"));
  if (!participant) throw denied();
  return participant;
}

/**
 * An ISO-8601 time in whole seconds, as the service writes `UrlExpiry`
 * (`2023-08-03T08:15:46Z`).
 *
 * @param time The time.
 * @returns The text.
 *
 * @example
 * ```ts ignore
 * isoSeconds(new Date("2023-08-03T08:15:46.123Z")); // "2023-08-03T08:15:46Z"
 * ```
 */
export function isoSeconds(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, "Z");
}
