/**
 * For the bundle-size comparison only: the bare three calls (StartAttachmentUpload, the
 * `PUT` of the request body to the pre-signed URL, CompleteAttachmentUpload) as a Workers
 * `fetch` handler built on the official `@aws-sdk/client-connectparticipant`. No validation,
 * no error mapping: the least a worker on the SDK can be.
 *
 * @module
 */

import {
  CompleteAttachmentUploadCommand,
  ConnectParticipantClient,
  StartAttachmentUploadCommand,
} from "npm:@aws-sdk/client-connectparticipant@3.1019.0";

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
    const client = new ConnectParticipantClient({
      region: env.AWS_REGION ?? "us-east-1",
      endpoint: env.PARTICIPANT_ENDPOINT,
      // The service authenticates with the bearer token; the SDK still signs, with nothing.
      credentials: { accessKeyId: "", secretAccessKey: "" },
    });
    const started = await client.send(
      new StartAttachmentUploadCommand({
        ConnectionToken: token,
        AttachmentName: name,
        AttachmentSizeInBytes: size,
        ContentType: contentType,
        ClientToken: crypto.randomUUID(),
      }),
    );
    const upload = await fetch(started.UploadMetadata!.Url!, {
      method: "PUT",
      headers: started.UploadMetadata!.HeadersToInclude,
      body: request.body,
    });
    if (!upload.ok) return new Response("upload failed", { status: 502 });
    await client.send(
      new CompleteAttachmentUploadCommand({
        ConnectionToken: token,
        AttachmentIds: [started.AttachmentId!],
        ClientToken: crypto.randomUUID(),
      }),
    );
    return Response.json({ AttachmentId: started.AttachmentId }, { status: 201 });
  },
};
