/**
 * The Amazon Connect operations a local chat needs (service `connect`, restJson1, SigV4
 * accepted and ignored): StartChatContact, and the instance's attachment settings,
 * UpdateAttachedFilesConfiguration and DescribeAttachedFilesConfiguration, with the paths,
 * members and shapes of the official model.
 *
 * @module
 */

import type { Hono } from "hono";
import type { ServiceParts } from "./context.ts";
import { ServiceFault } from "./errors.ts";
import {
  type AttachedFilesConfiguration,
  ATTACHMENT_SCOPES,
  type AttachmentScope,
  MAX_CONFIGURABLE_BYTES,
} from "./instance_settings.ts";
import { readJson, validator } from "./validate.ts";

/**
 * Adds the Amazon Connect operations to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * connectRoutes(app, parts);
 * ```
 */
export function connectRoutes(app: Hono, parts: ServiceParts): void {
  const { store, settings } = parts;

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

  const target = (instanceId: string, scope: string): [string, AttachmentScope] => {
    if ([...instanceId].length < 1 || [...instanceId].length > 100) {
      throw new ServiceFault("InvalidParameterException", "InstanceId must be 1 to 100 characters");
    }
    if (!ATTACHMENT_SCOPES.includes(scope as AttachmentScope)) {
      throw new ServiceFault(
        "InvalidParameterException",
        `AttachmentScope must be one of ${ATTACHMENT_SCOPES.join(", ")}`,
      );
    }
    return [instanceId, scope as AttachmentScope];
  };

  app.post("/attached-files-configurations/:instanceId/:scope", async (c) => {
    const [instanceId, scope] = target(c.req.param("instanceId"), c.req.param("scope"));
    const body = await readJson(c, "InvalidRequestException");
    const maxBytes = validator(body, "InvalidParameterException")
      .integer("MaximumSizeLimitInBytes", 1, MAX_CONFIGURABLE_BYTES, false);
    const extensions = allowedExtensions(body.ExtensionConfiguration);
    const saved = settings.update(instanceId, scope, { maxBytes, extensions });
    parts.log?.(
      `instance ${instanceId} ${scope}: at most ${saved.maxBytes} bytes, ${saved.extensions.length} extensions`,
    );
    return c.json(configurationJson(saved));
  });

  app.get("/attached-files-configurations/:instanceId/:scope", (c) => {
    const [instanceId, scope] = target(c.req.param("instanceId"), c.req.param("scope"));
    return c.json({
      AttachedFilesConfiguration: configurationJson(settings.get(instanceId, scope)),
    });
  });
}

/** `ExtensionConfiguration` of an update: absent, or a list of `{Extension}` per the model. */
function allowedExtensions(value: unknown): string[] | undefined {
  if (value === undefined || value === null) return undefined;
  const bad = (message: string) => new ServiceFault("InvalidParameterException", message);
  if (typeof value !== "object" || Array.isArray(value)) {
    throw bad("ExtensionConfiguration must be an object");
  }
  const list = (value as Record<string, unknown>).AllowedExtensions;
  if (!Array.isArray(list)) {
    throw bad("ExtensionConfiguration.AllowedExtensions is required and must be a list");
  }
  return list.map((entry) => {
    const extension = typeof entry === "object" && entry !== null
      ? (entry as Record<string, unknown>).Extension
      : undefined;
    if (typeof extension !== "string" || !/^[A-Za-z0-9_-]{1,10}$/.test(extension)) {
      throw bad(
        "Each Extension must be 1 to 10 letters, digits, hyphens or underscores (no dot)",
      );
    }
    return extension;
  });
}

/** The model's AttachedFilesConfiguration; `LastModifiedTime` in epoch seconds (restJson1). */
function configurationJson(config: AttachedFilesConfiguration): Record<string, unknown> {
  return {
    InstanceId: config.instanceId,
    AttachmentScope: config.scope,
    MaximumSizeLimitInBytes: config.maxBytes,
    ExtensionConfiguration: {
      AllowedExtensions: config.extensions.map((Extension) => ({ Extension })),
    },
    ...(config.lastModified ? { LastModifiedTime: config.lastModified.getTime() / 1000 } : {}),
  };
}
