/**
 * The attachment operations: StartAttachmentUpload (the model's member rules, then the
 * instance's size limit and extensions; a pre-signed PUT with the real service's
 * `HeadersToInclude`), CompleteAttachmentUpload (the bytes must be in the bucket; the item
 * appears in the transcript, `IN_PROGRESS` while a scan runs) and GetAttachment.
 *
 * @module
 */

import type { Hono } from "hono";
import { attachmentDisposition, headObject, presignObject } from "../presign.ts";
import { connectedParticipant, isoSeconds, type ServiceParts } from "./context.ts";
import { ServiceFault } from "./errors.ts";
import type { Attachment, Chat, Participant } from "./store.ts";
import { readJson, validator } from "./validate.ts";

/** The AWS account the local instance belongs to, for `x-amz-meta-account_id`. */
export const LOCAL_ACCOUNT_ID = "000000000000";

/**
 * Adds StartAttachmentUpload, CompleteAttachmentUpload and GetAttachment to the app.
 *
 * @param app The service's app.
 * @param parts The service's parts.
 *
 * @example
 * ```ts ignore
 * attachmentRoutes(app, parts);
 * ```
 */
export function attachmentRoutes(app: Hono, parts: ServiceParts): void {
  const { s3, settings, maxAttachmentsPerChat } = parts;
  const uploads = new Map<string, { attachment: Attachment; fingerprint: string }>();
  const completions = new Map<string, Promise<void>>();

  const quotaExceeded = () =>
    new ServiceFault(
      "ServiceQuotaExceededException",
      `A chat holds at most ${maxAttachmentsPerChat} attachments`,
    );

  app.post("/participant/start-attachment-upload", async (c) => {
    const participant = connectedParticipant(parts, c);
    const body = await readJson(c);
    const check = validator(body);
    const contentType = check.string("ContentType", 1, 255)!;
    const size = check.integer("AttachmentSizeInBytes", 1)!;
    const name = check.string("AttachmentName", 1, 256)!;
    const clientToken = check.string("ClientToken", 1, 500)!;
    const { chat } = participant;
    const problem = settings.attachmentProblem(chat.instanceId, name, size);
    if (problem) throw new ServiceFault("ValidationException", problem);

    const type = mediaType(contentType);
    const fingerprint = JSON.stringify([name, type, size]);
    const idempotencyKey = `${participant.participantId}|${clientToken}`;
    const earlier = uploads.get(idempotencyKey);
    if (earlier && earlier.fingerprint !== fingerprint) {
      throw new ServiceFault(
        "ValidationException",
        "ClientToken was already used with other parameters",
      );
    }
    let attachment = parts.behaviour.repeatedClientToken === "same-attachment"
      ? earlier?.attachment
      : undefined;
    if (!attachment) {
      if (completedCount(chat) >= maxAttachmentsPerChat) throw quotaExceeded();
      const id = crypto.randomUUID();
      attachment = {
        id,
        name,
        contentType: type,
        size,
        key: `${chat.contactId}/${id}`,
        owner: participant,
        completed: false,
        clientToken,
      };
      chat.attachments.set(id, attachment);
      uploads.set(idempotencyKey, { attachment, fingerprint });
    }
    const signed = await presignObject(
      s3,
      "PUT",
      attachment!.key,
      uploadHeaders(attachment!, chat),
      parts.uploadUrlTtlSeconds,
    );
    return c.json({
      AttachmentId: attachment!.id,
      UploadMetadata: {
        Url: signed.url,
        UrlExpiry: isoSeconds(signed.expiresAt),
        HeadersToInclude: signed.headers,
      },
    });
  });

  app.post("/participant/complete-attachment-upload", async (c) => {
    const participant = connectedParticipant(parts, c);
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
    attachment.status = parts.scanner ? "IN_PROGRESS" : "APPROVED";
    attachment.item = parts.store.addItem(participant, {
      Type: "ATTACHMENT",
      ContentType: "application/vnd.amazonaws.connect.message.attachment",
      Attachments: [{
        ContentType: attachment.contentType,
        AttachmentId: attachment.id,
        AttachmentName: attachment.name,
        Status: attachment.status,
      }],
    });
    parts.scanner?.scan(attachment);
  }

  app.post("/participant/attachment", async (c) => {
    const participant = connectedParticipant(parts, c);
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
    // GetAttachment's model knows only Validation, AccessDenied, Throttling and InternalServer
    // errors: a file that is not (or not yet) approved is a request that cannot be served.
    if (attachment.status === "IN_PROGRESS") {
      throw new ServiceFault(
        "ValidationException",
        "The attachment is still being scanned; it can be fetched once it is APPROVED",
      );
    }
    if (attachment.status === "REJECTED") {
      throw new ServiceFault(
        "ValidationException",
        "The attachment was REJECTED by the scan and deleted",
      );
    }
    const signed = await presignObject(s3, "GET", attachment.key, {}, ttl);
    return c.json({
      Url: signed.url,
      UrlExpiry: isoSeconds(signed.expiresAt),
      AttachmentSizeInBytes: attachment.size,
    });
  });
}

/**
 * The headers an upload must carry, as the real service lists them (and all signed): type,
 * length, an attachment disposition with the name, the bucket owner's ACL, and the contact's
 * metadata under the service's underscore keys.
 */
function uploadHeaders(attachment: Attachment, chat: Chat): Record<string, string> {
  return {
    "Content-Type": attachment.contentType,
    "Content-Length": String(attachment.size),
    "Content-Disposition": attachmentDisposition(attachment.name),
    "x-amz-acl": "bucket-owner-full-control",
    "x-amz-meta-contact_id": chat.contactId,
    "x-amz-meta-initial_contact_id": chat.contactId,
    "x-amz-meta-account_id": LOCAL_ACCOUNT_ID,
    "x-amz-meta-organization_id": chat.instanceId,
  };
}

/** A Content-Type's lower-case media type, without parameters. */
function mediaType(contentType: string): string {
  return contentType.split(";", 1)[0].trim().toLowerCase();
}

function completedCount(chat: Chat): number {
  let count = 0;
  for (const attachment of chat.attachments.values()) if (attachment.completed) count++;
  return count;
}
