import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { randomBytes, sha256 } from "../testing/data.ts";

Deno.test("the whole attachment life cycle against the local stack", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const chat = await openChat(client);
    const bytes = randomBytes(300_000);
    const start = await client.startAttachmentUpload(chat.connectionToken, {
      AttachmentName: "report.pdf",
      ContentType: "application/pdf",
      AttachmentSizeInBytes: bytes.length,
    });
    assert.ok(start.data, JSON.stringify(start.error));
    const { Url, HeadersToInclude } = start.data.UploadMetadata!;
    const put = await fetch(Url!, { method: "PUT", headers: HeadersToInclude, body: bytes });
    assert.equal(put.status, 200, await put.text());
    const done = await client.completeAttachmentUpload(chat.connectionToken, {
      AttachmentIds: [start.data.AttachmentId!],
    });
    assert.equal(done.error, undefined);
    const transcript = await client.getTranscript(chat.connectionToken, {});
    const item = transcript.data?.Transcript?.find((i) => i.Type === "ATTACHMENT");
    assert.equal(item?.Attachments?.[0].AttachmentId, start.data.AttachmentId);
    const got = await client.getAttachment(chat.connectionToken, {
      AttachmentId: start.data.AttachmentId!,
    });
    assert.equal(got.data?.AttachmentSizeInBytes, bytes.length);
    const download = await fetch(got.data!.Url!);
    assert.equal(download.status, 200);
    assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));
  } finally {
    await stack.close();
  }
});
