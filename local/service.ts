/**
 * A local stand-in for the Amazon Connect Participant Service (and Amazon Connect's
 * StartChatContact), backed by a real S3-compatible server that verifies signatures.
 *
 * It answers as the real service does: restJson1, `X-Amzn-ErrorType` and `{"Message"}` on
 * errors, `X-Amzn-RequestId` on every answer. SigV4 headers from official SDK clients are
 * accepted and ignored; CORS preflights are answered.
 *
 * @module
 */

import { Hono } from "hono";
import type { Context } from "hono";
import { cors } from "hono/cors";
import { checkAttachment, DEFAULT_MAX_ATTACHMENT_BYTES, mimeEssence } from "../src/limits.ts";
import { FaultInjector, type FaultRule, parseFaultRule } from "./faults.ts";
import { attachmentDisposition, headObject, presignObject, type S3Target } from "./presign.ts";
import { type Attachment, type Chat, type Item, type Participant, Store } from "./store.ts";

/** Options of {@link createLocalService}. */
export interface LocalServiceOptions {
  /** The S3 bucket that holds attachments, and its credentials. */
  s3: S3Target;
  /** The largest attachment accepted. @default {DEFAULT_MAX_ATTACHMENT_BYTES} */
  maxAttachmentBytes?: number;
  /** How long a pre-signed upload URL is valid. @default {300} */
  uploadUrlTtlSeconds?: number;
  /** How long a ConnectionToken is valid. @default {86400} */
  connectionTtlSeconds?: number;
  /**
   * How many completed attachments one chat may hold: StartAttachmentUpload refuses a new
   * attachment, and CompleteAttachmentUpload one more completion, with
   * ServiceQuotaExceededException once the chat holds this many. @default {100}
   */
  maxAttachmentsPerChat?: number;
  /** Told one line per request (method, path, operation, status, time); never tokens. */
  log?: (line: string) => void;
}

/** The local service: its Hono app, its state and its fault injector. */
export interface LocalService {
  /** The HTTP app; serve it with `Deno.serve(service.app.fetch)`. */
  app: Hono;
  /** Chats, participants and attachments. */
  store: Store;
  /** Faults armed through `POST /_local/faults` or directly. */
  faults: FaultInjector;
  /** The S3 target; set `s3.publicUrl` to hand out URLs through a proxy. */
  s3: S3Target;
}

type ErrorShape =
  | "ValidationException"
  | "AccessDeniedException"
  | "ServiceQuotaExceededException"
  | "ConflictException"
  | "ThrottlingException"
  | "InternalServerException"
  | "InvalidRequestException"
  | "ResourceNotFoundException"
  | "LimitExceededException"
  | "InternalServiceException";

const STATUS: Record<ErrorShape, 400 | 402 | 403 | 404 | 409 | 429 | 500> = {
  ValidationException: 400,
  AccessDeniedException: 403,
  ServiceQuotaExceededException: 402,
  ConflictException: 409,
  ThrottlingException: 429,
  InternalServerException: 500,
  InvalidRequestException: 400,
  ResourceNotFoundException: 404,
  LimitExceededException: 429,
  InternalServiceException: 500,
};

/** An error answer, thrown inside handlers and sent by the app's error handler. */
class ServiceFault extends Error {
  constructor(readonly shape: ErrorShape, message: string) {
    super(message);
  }
}

const OPERATIONS: Record<string, string> = {
  "PUT /contact/chat": "StartChatContact",
  "POST /participant/connection": "CreateParticipantConnection",
  "POST /participant/start-attachment-upload": "StartAttachmentUpload",
  "POST /participant/complete-attachment-upload": "CompleteAttachmentUpload",
  "POST /participant/attachment": "GetAttachment",
  "POST /participant/transcript": "GetTranscript",
  "POST /participant/message": "SendMessage",
  "POST /participant/disconnect": "DisconnectParticipant",
};

/** GetTranscript's page size when MaxResults is absent or 0. */
const DEFAULT_TRANSCRIPT_PAGE = 10;

const MESSAGE_TYPES = new Set([
  "text/plain",
  "text/markdown",
  "application/json",
  "application/vnd.amazonaws.connect.message.interactive.response",
]);

/**
 * Creates the local Participant Service.
 *
 * @param options The S3 bucket behind it, limits and time-outs.
 * @returns The app, its store and its fault injector.
 *
 * @example
 * ```ts ignore
 * import { createLocalService } from "./service.ts";
 * const service = createLocalService({ s3: { url, bucket, accessKeyId, secretAccessKey, region } });
 * Deno.serve({ port: 8788 }, service.app.fetch);
 * ```
 */
export function createLocalService(options: LocalServiceOptions): LocalService {
  const {
    s3,
    maxAttachmentBytes = DEFAULT_MAX_ATTACHMENT_BYTES,
    uploadUrlTtlSeconds = 300,
    connectionTtlSeconds = 86_400,
    maxAttachmentsPerChat = 100,
    log,
  } = options;
  const store = new Store();
  const faults = new FaultInjector();
  const uploads = new Map<string, { attachment: Attachment; fingerprint: string }>();
  const completions = new Map<string, Promise<void>>();
  const messages = new Map<string, Item>();
  const app = new Hono();

  app.use(
    "*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: ["X-Amzn-RequestId", "X-Amzn-ErrorType"],
      maxAge: 600,
    }),
  );

  app.use("*", async (c, next) => {
    const started = performance.now();
    const operation = OPERATIONS[`${c.req.method} ${c.req.path}`];
    c.header("X-Amzn-RequestId", crypto.randomUUID());
    const fault = operation ? faults.take(operation) : undefined;
    const injure = async (rule: FaultRule) => {
      if (rule.kind === "delay") {
        await new Promise((r) => setTimeout(r, rule.delayMs ?? 1000));
        return;
      }
      // After the handler ran, its answer is replaced (the work it did stays done).
      c.res.headers.delete("X-Amzn-ErrorType");
      if (rule.kind === "throttle") {
        c.res = fail(
          c,
          operation === "StartChatContact" ? "LimitExceededException" : "ThrottlingException",
          "Rate exceeded (injected fault)",
        );
      } else if (rule.kind === "error") {
        c.res = fail(c, internalShape(operation), "Internal failure (injected fault)");
      } else {
        c.res = droppedConnection();
      }
    };
    if (fault?.when === "after") {
      await next();
      await injure(fault);
    } else if (fault) {
      await injure(fault);
      if (fault.kind === "delay") await next();
    } else {
      await next();
    }
    log?.(
      `${c.req.method} ${c.req.path}${operation ? ` ${operation}` : ""} ${c.res.status}${
        fault ? ` fault=${fault.kind}` : ""
      } ${Math.round(performance.now() - started)}ms`,
    );
  });

  app.onError((error, c) => {
    if (error instanceof ServiceFault) return fail(c, error.shape, error.message);
    log?.(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    return fail(
      c,
      internalShape(OPERATIONS[`${c.req.method} ${c.req.path}`]),
      "The service failed to handle the request",
    );
  });

  app.notFound((c) =>
    fail(c, "ValidationException", `No operation at ${c.req.method} ${c.req.path}`)
  );

  // Amazon Connect: StartChatContact.
  app.put("/contact/chat", async (c) => {
    const body = await readJson(c, "InvalidRequestException");
    const check = validator(body, "InvalidRequestException");
    const instanceId = check.string("InstanceId", 1, 100)!;
    check.string("ContactFlowId", 1, 500);
    const details = body.ParticipantDetails;
    if (typeof details !== "object" || details === null) {
      throw new ServiceFault("InvalidRequestException", "ParticipantDetails is required");
    }
    const displayName = validator(details as Record<string, unknown>, "InvalidRequestException")
      .string("DisplayName", 1, 256)!;
    const clientToken = check.string("ClientToken", 1, 500, false);
    const participant = store.startChat(instanceId, displayName, clientToken);
    return c.json({
      ContactId: participant.chat.contactId,
      ParticipantId: participant.participantId,
      ParticipantToken: participant.participantToken,
    });
  });

  app.post("/participant/connection", async (c) => {
    const participant = store.byParticipantToken(c.req.header("x-amz-bearer"));
    if (!participant) throw denied();
    const body = await readJson(c);
    let types = ["WEBSOCKET", "CONNECTION_CREDENTIALS"];
    if (body.Type !== undefined) {
      if (
        !Array.isArray(body.Type) || body.Type.length === 0 ||
        body.Type.some((t) =>
          !["WEBSOCKET", "CONNECTION_CREDENTIALS", "WEBRTC_CONNECTION"].includes(t)
        )
      ) {
        throw new ServiceFault(
          "ValidationException",
          "Type must be a non-empty list of WEBSOCKET, CONNECTION_CREDENTIALS, WEBRTC_CONNECTION",
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
    store.connect(participant, connectionTtlSeconds * 1000);
    const expiry = new Date(participant.connectionExpiresAt!).toISOString();
    const answer: Record<string, unknown> = {};
    if (types.includes("WEBSOCKET")) {
      const origin = new URL(c.req.url);
      answer.Websocket = {
        Url: `ws://${origin.host}/participant/websocket/${participant.participantId}`,
        ConnectionExpiry: expiry,
      };
    }
    if (types.includes("CONNECTION_CREDENTIALS")) {
      answer.ConnectionCredentials = {
        ConnectionToken: participant.connectionToken,
        Expiry: expiry,
      };
    }
    return c.json(answer);
  });

  app.post("/participant/start-attachment-upload", async (c) => {
    const participant = connected(c);
    const body = await readJson(c);
    const check = validator(body);
    const contentType = check.string("ContentType", 1, 255)!;
    const size = check.integer("AttachmentSizeInBytes", 1)!;
    const name = check.string("AttachmentName", 1, 256)!;
    const clientToken = check.string("ClientToken", 1, 500)!;
    const problem = checkAttachment({ name, contentType, size, maxBytes: maxAttachmentBytes });
    if (problem) throw new ServiceFault("ValidationException", problem.message);

    const fingerprint = JSON.stringify([name, mimeEssence(contentType), size]);
    const idempotencyKey = `${participant.participantId}|${clientToken}`;
    let attachment = uploads.get(idempotencyKey)?.attachment;
    if (attachment) {
      if (uploads.get(idempotencyKey)!.fingerprint !== fingerprint) {
        throw new ServiceFault(
          "ValidationException",
          "ClientToken was already used with other parameters",
        );
      }
    } else {
      if (completedCount(participant.chat) >= maxAttachmentsPerChat) throw quotaExceeded();
      const id = crypto.randomUUID();
      attachment = {
        id,
        name,
        contentType: mimeEssence(contentType),
        size,
        key: `${participant.chat.contactId}/${id}`,
        owner: participant,
        completed: false,
        clientToken,
      };
      participant.chat.attachments.set(id, attachment);
      uploads.set(idempotencyKey, { attachment, fingerprint });
    }
    const signed = await presignObject(s3, "PUT", attachment.key, {
      "Content-Type": attachment.contentType,
      "Content-Length": String(attachment.size),
      "Content-Disposition": attachmentDisposition(attachment.name),
      "x-amz-meta-contact-id": participant.chat.contactId,
      "x-amz-meta-attachment-id": attachment.id,
    }, uploadUrlTtlSeconds);
    return c.json({
      AttachmentId: attachment.id,
      UploadMetadata: {
        Url: signed.url,
        UrlExpiry: signed.expiresAt.toISOString(),
        HeadersToInclude: signed.headers,
      },
    });
  });

  app.post("/participant/complete-attachment-upload", async (c) => {
    const participant = connected(c);
    const body = await readJson(c);
    const check = validator(body);
    const ids = body.AttachmentIds;
    if (!Array.isArray(ids) || ids.length !== 1) {
      throw new ServiceFault(
        "ValidationException",
        "AttachmentIds must hold exactly one attachment id",
      );
    }
    validator({ AttachmentId: ids[0] }).string("AttachmentId", 1, 256);
    check.string("ClientToken", 1, 500);
    const attachment = participant.chat.attachments.get(ids[0]);
    if (!attachment) {
      throw new ServiceFault("ValidationException", "No such attachment in this chat");
    }
    let completion = completions.get(attachment.id);
    if (!completion) {
      completion = complete(participant, attachment);
      completions.set(attachment.id, completion);
      completion.catch(() => completions.delete(attachment.id));
    }
    await completion;
    return c.json({});
  });

  async function complete(participant: Participant, attachment: Attachment): Promise<void> {
    const stored = await headObject(s3, attachment.key);
    if (!stored) {
      throw new ServiceFault("ConflictException", "The attachment has not been uploaded yet");
    }
    if (stored.size !== attachment.size) {
      throw new ServiceFault(
        "ConflictException",
        `The uploaded file has ${stored.size} bytes; ${attachment.size} were declared`,
      );
    }
    if (completedCount(participant.chat) >= maxAttachmentsPerChat) throw quotaExceeded();
    attachment.completed = true;
    store.addItem(participant, {
      Type: "ATTACHMENT",
      ContentType: "application/vnd.amazonaws.connect.message.attachment",
      Attachments: [{
        ContentType: attachment.contentType,
        AttachmentId: attachment.id,
        AttachmentName: attachment.name,
        Status: "APPROVED",
      }],
    });
  }

  app.post("/participant/attachment", async (c) => {
    const participant = connected(c);
    const body = await readJson(c);
    const check = validator(body);
    const id = check.string("AttachmentId", 1, 256)!;
    const ttl = check.integer("UrlExpiryInSeconds", 5, 300, false) ?? 300;
    const attachment = participant.chat.attachments.get(id);
    if (!attachment?.completed) {
      throw new ServiceFault(
        "ValidationException",
        "No completed attachment with that id in this chat",
      );
    }
    const signed = await presignObject(s3, "GET", attachment.key, {}, ttl);
    return c.json({
      Url: signed.url,
      UrlExpiry: signed.expiresAt.toISOString(),
      AttachmentSizeInBytes: attachment.size,
    });
  });

  app.post("/participant/transcript", async (c) => {
    const participant = connected(c);
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

  app.post("/participant/message", async (c) => {
    const participant = connected(c);
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
      item = store.addItem(participant, {
        Type: "MESSAGE",
        ContentType: contentType,
        Content: content,
      });
      if (key) messages.set(key, item);
    }
    return c.json({ Id: item.Id, AbsoluteTime: item.AbsoluteTime });
  });

  app.post("/participant/disconnect", async (c) => {
    const participant = connected(c);
    const body = await readJson(c);
    validator(body).string("ClientToken", 0, 500, false);
    store.disconnect(participant);
    return c.json({});
  });

  // Fault injection for tests: off until a rule is armed.
  app.get(
    "/_local/faults",
    (c) =>
      c.json({
        rules: faults.list(),
        hits: Object.fromEntries(faults.hits),
        calls: Object.fromEntries(faults.calls),
      }),
  );
  app.post("/_local/faults", async (c) => {
    const rule = parseFaultRule(await c.req.json().catch(() => undefined));
    if (typeof rule === "string") throw new ServiceFault("ValidationException", rule);
    faults.add(rule);
    return c.json({ rules: faults.list() });
  });
  app.delete("/_local/faults", (c) => {
    faults.clear();
    return c.json({ rules: [] });
  });
  app.get("/_local/health", (c) => c.json({ ok: true }));

  function quotaExceeded(): ServiceFault {
    return new ServiceFault(
      "ServiceQuotaExceededException",
      `A chat holds at most ${maxAttachmentsPerChat} attachments`,
    );
  }

  function connected(c: Context): Participant {
    const participant = store.byConnectionToken(c.req.header("x-amz-bearer"));
    if (!participant) throw denied();
    return participant;
  }

  return { app, store, faults, s3 };
}

function completedCount(chat: Chat): number {
  let count = 0;
  for (const attachment of chat.attachments.values()) if (attachment.completed) count++;
  return count;
}

/** The 500 shape of an operation: Amazon Connect's for StartChatContact, else the Participant Service's. */
function internalShape(operation: string | undefined): ErrorShape {
  return operation === "StartChatContact" ? "InternalServiceException" : "InternalServerException";
}

function denied(): ServiceFault {
  return new ServiceFault(
    "AccessDeniedException",
    "The token is not valid: it is unknown, expired or disconnected, or the chat has ended",
  );
}

function fail(c: Context, shape: ErrorShape, message: string): Response {
  c.header("X-Amzn-ErrorType", shape);
  return c.json({ Message: message }, STATUS[shape]);
}

/** An answer whose connection breaks before the body is complete. */
function droppedConnection(): Response {
  const body = new ReadableStream({
    start(controller) {
      controller.error(new Error("connection dropped (injected fault)"));
    },
  });
  return new Response(body, { status: 200, headers: { "content-type": "application/json" } });
}

async function readJson(
  c: Context,
  shape: ErrorShape = "ValidationException",
): Promise<Record<string, unknown>> {
  const text = await c.req.text();
  if (text.trim() === "") return {};
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ServiceFault(shape, "The request body is not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new ServiceFault(shape, "The request body must be a JSON object");
  }
  return value as Record<string, unknown>;
}

function validator(body: Record<string, unknown>, shape: ErrorShape = "ValidationException") {
  const bad = (message: string) => new ServiceFault(shape, message);
  return {
    string(key: string, min: number, max: number, required = true): string | undefined {
      const value = body[key];
      if (value === undefined || value === null) {
        if (required) throw bad(`${key} is required`);
        return undefined;
      }
      if (typeof value !== "string") throw bad(`${key} must be a string`);
      const length = [...value].length;
      if (length < min || length > max) {
        throw bad(`${key} must be ${min} to ${max} characters long`);
      }
      return value;
    },
    integer(
      key: string,
      min: number,
      max = Number.MAX_SAFE_INTEGER,
      required = true,
    ): number | undefined {
      const value = body[key];
      if (value === undefined || value === null) {
        if (required) throw bad(`${key} is required`);
        return undefined;
      }
      if (typeof value !== "number" || !Number.isSafeInteger(value) || value < min || value > max) {
        throw bad(`${key} must be a whole number from ${min} to ${max}`);
      }
      return value;
    },
    oneOf<T extends string>(key: string, values: T[]): T | undefined {
      const value = body[key];
      if (value === undefined || value === null) return undefined;
      if (!values.includes(value as T)) throw bad(`${key} must be one of ${values.join(", ")}`);
      return value as T;
    },
  };
}

/** Where a transcript scan starts, as GetTranscript's StartPosition gives it. */
type Position = { id: string } | { time: string } | { mostRecent: number };

/** A position in a chat's transcript and the direction of the scan. */
interface Cursor {
  direction: "FORWARD" | "BACKWARD";
  index: number;
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
