/**
 * For the bundle-size comparison only: the same bare three calls as `sdk_worker.ts`, built
 * on this project's own Participant Service client (`src/client.ts`), so that the two
 * clients are weighed on equal terms.
 *
 * @module
 */

import { createParticipantClient } from "../../src/_core/client.ts";

/** What the worker reads from its bindings. */
interface Env {
  /** The AWS region, such as `us-east-1`. */
  AWS_REGION?: string;
  /** Any Participant Service endpoint (the local one in tests). */
  PARTICIPANT_ENDPOINT?: string;
}

export default {
  /**
   * `PUT /attachments/{name}` with `X-Amz-Bearer`: start, upload, complete.
   * @param request The incoming request.
   * @param env The bindings.
   */
  async fetch(request: Request, env: Env): Promise<Response> {
    const token = request.headers.get("x-amz-bearer") ?? "";
    const name = decodeURIComponent(new URL(request.url).pathname.split("/").pop() ?? "");
    const size = Number(request.headers.get("content-length"));
    const contentType = request.headers.get("content-type") ?? "application/octet-stream";
    const client = createParticipantClient(
      env.PARTICIPANT_ENDPOINT
        ? { endpoint: env.PARTICIPANT_ENDPOINT }
        : { region: env.AWS_REGION ?? "us-east-1" },
    );
    const started = await client.startAttachmentUpload(token, {
      AttachmentName: name,
      AttachmentSizeInBytes: size,
      ContentType: contentType,
    });
    if (started.error) return new Response("start failed", { status: 502 });
    const upload = await fetch(started.data.UploadMetadata!.Url!, {
      method: "PUT",
      headers: started.data.UploadMetadata!.HeadersToInclude,
      body: request.body,
    });
    if (!upload.ok) return new Response("upload failed", { status: 502 });
    const completed = await client.completeAttachmentUpload(token, {
      AttachmentIds: [started.data.AttachmentId!],
    });
    if (completed.error) return new Response("complete failed", { status: 502 });
    return Response.json({ AttachmentId: started.data.AttachmentId }, { status: 201 });
  },
};
