/**
 * A local stand-in for the Amazon Connect Participant Service (and the few Amazon Connect
 * operations a chat needs), backed by a real S3-compatible server that verifies signatures.
 *
 * It answers as the real services do: restJson1, `X-Amzn-ErrorType` and `{"Message"}` on
 * errors, `X-Amzn-RequestId` on every answer. SigV4 headers from official SDK clients are
 * accepted and ignored; CORS preflights are answered. Its rules come from the services'
 * models and the instance's attachment settings, written here (`participant/`), never taken
 * from the product's code: one module per operation group or concept, composed below.
 *
 * @module
 */

import { Hono } from "hono";
import { cors } from "hono/cors";
import { FaultInjector } from "./faults.ts";
import type { S3Target } from "./presign.ts";
import { agentRoutes } from "./participant/agents.ts";
import { attachmentRoutes } from "./participant/attachments.ts";
import { connectRoutes } from "./participant/connect_api.ts";
import { connectionRoutes } from "./participant/connection.ts";
import type { ServiceBehaviour, ServiceParts } from "./participant/context.ts";
import { fail, ServiceFault } from "./participant/errors.ts";
import { behaviourRoutes, faultRoutes, faultsAndLog } from "./participant/faults_api.ts";
import { DEFAULT_CHAT_MAX_BYTES, InstanceSettings } from "./participant/instance_settings.ts";
import { messageRoutes } from "./participant/messages.ts";
import { internalShape, operationOf } from "./participant/operations.ts";
import { Scanner } from "./participant/scanner.ts";
import { Store } from "./participant/store.ts";
import { transcriptRoutes } from "./participant/transcript.ts";
import { ChatSockets } from "./participant/websocket.ts";

export type { Attachment, Chat, Item, Participant } from "./participant/store.ts";
export { Store } from "./participant/store.ts";

/** Options of {@link createLocalService}. */
export interface LocalServiceOptions {
  /** The S3 bucket that holds attachments, and its credentials. */
  s3: S3Target;
  /**
   * The size limit of an instance whose attachment settings nobody set (Amazon Connect's
   * default is 20 MB; the local stack's `MAX_ATTACHMENT_BYTES`). An instance configured with
   * UpdateAttachedFilesConfiguration uses its own. @default {20971520}
   */
  maxAttachmentBytes?: number;
  /** How long a pre-signed upload URL is valid. @default {300} */
  uploadUrlTtlSeconds?: number;
  /** How long a ConnectionToken is valid. @default {86400} */
  connectionTtlSeconds?: number;
  /** How long a websocket URL may be used to connect, as on the real service. @default {100} */
  websocketUrlTtlSeconds?: number;
  /**
   * How many completed attachments one chat may hold: StartAttachmentUpload refuses a new
   * attachment, and CompleteAttachmentUpload one more completion, with
   * ServiceQuotaExceededException once the chat holds this many. @default {100}
   */
  maxAttachmentsPerChat?: number;
  /**
   * Attachment scanning: each completed attachment is `IN_PROGRESS` for `delayMs`, then
   * `REJECTED` (and deleted) when it holds the EICAR test string, else `APPROVED`. Off by
   * default, as on a new instance.
   */
  scanning?: { delayMs: number };
  /**
   * What StartAttachmentUpload gives for a repeated ClientToken: the attachment it made before
   * (`same-attachment`) or a new one (`new-attachment`); also switched at run time with
   * `POST /_local/behaviour`. @default {"same-attachment"}
   */
  repeatedClientToken?: ServiceBehaviour["repeatedClientToken"];
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
  /** The instances' attachment settings. */
  settings: InstanceSettings;
  /** Answers the documentation leaves open; change them in place or with `/_local/behaviour`. */
  behaviour: ServiceBehaviour;
  /** Closes every websocket and stops pending scans; call it before stopping the server. */
  close(): void;
}

/**
 * Creates the local Participant Service.
 *
 * @param options The S3 bucket behind it, limits, time-outs and scanning.
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
  const { s3, log } = options;
  const store = new Store();
  const faults = new FaultInjector();
  const sockets = new ChatSockets(store, {
    urlTtlMs: (options.websocketUrlTtlSeconds ?? 100) * 1000,
    log,
  });
  const parts: ServiceParts = {
    store,
    s3,
    settings: new InstanceSettings(options.maxAttachmentBytes ?? DEFAULT_CHAT_MAX_BYTES),
    sockets,
    scanner: options.scanning
      ? new Scanner({ s3, store, delayMs: options.scanning.delayMs, log })
      : undefined,
    uploadUrlTtlSeconds: options.uploadUrlTtlSeconds ?? 300,
    connectionTtlSeconds: options.connectionTtlSeconds ?? 86_400,
    maxAttachmentsPerChat: options.maxAttachmentsPerChat ?? 100,
    behaviour: { repeatedClientToken: options.repeatedClientToken ?? "same-attachment" },
    log,
  };
  const app = new Hono();

  // The websocket answers its upgrade untouched by the middleware below.
  sockets.route(app);
  app.use(
    "*",
    cors({
      origin: "*",
      allowMethods: ["GET", "POST", "PUT", "DELETE", "OPTIONS"],
      exposeHeaders: ["X-Amzn-RequestId", "X-Amzn-ErrorType"],
      maxAge: 600,
    }),
  );
  app.use("*", faultsAndLog(faults, log));
  app.onError((error, c) => {
    if (error instanceof ServiceFault) return fail(c, error.shape, error.message);
    log?.(`internal error: ${error instanceof Error ? error.message : String(error)}`);
    return fail(
      c,
      internalShape(operationOf(c.req.method, c.req.path)),
      "The service failed to handle the request",
    );
  });
  app.notFound((c) =>
    fail(c, "ValidationException", `No operation at ${c.req.method} ${c.req.path}`)
  );

  connectRoutes(app, parts);
  connectionRoutes(app, parts);
  attachmentRoutes(app, parts);
  transcriptRoutes(app, parts);
  messageRoutes(app, parts);
  faultRoutes(app, faults);
  behaviourRoutes(app, parts.behaviour);
  agentRoutes(app, parts);
  app.get("/_local/health", (c) => c.json({ ok: true }));

  return {
    app,
    store,
    faults,
    s3,
    settings: parts.settings,
    behaviour: parts.behaviour,
    close() {
      parts.scanner?.close();
      sockets.closeAll();
    },
  };
}
