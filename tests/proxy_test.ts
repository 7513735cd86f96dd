import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { startProxy } from "../testing/proxy.ts";
import { randomBytes } from "../testing/data.ts";

Deno.test("the S3 proxy forwards signed uploads untouched and injects faults", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const s3Port = Number(new URL(stack.s3.url).port);
  const proxy = startProxy({ target: { hostname: "127.0.0.1", port: s3Port } });
  stack.service.s3.publicUrl = proxy.url;
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const bytes = randomBytes(200_000);
    const base = {
      client,
      connectionToken,
      name: "a.pdf",
      contentType: "application/pdf",
      size: bytes.length,
      body: bytes,
      isUploadUrlAllowed: (url: URL) => url.port === String(proxy.port),
    };
    const sent = await sendAttachment(base);
    assert.equal(sent.completed, true);
    assert.ok(proxy.stats.connections >= 1);

    proxy.inject({ kind: "respond", status: 503, code: "SlowDown" });
    await assert.rejects(
      sendAttachment(base),
      (e) =>
        e instanceof AttachmentError && e.code === "upload_failed" &&
        e.upstream?.service === "s3" && e.upstream.status === 503 &&
        e.upstream.name === "SlowDown",
    );

    proxy.inject({ kind: "reset", afterBytes: 50_000 });
    await assert.rejects(
      sendAttachment(base),
      (e) => e instanceof AttachmentError && e.stage === "upload" && e.code === "upload_failed",
    );

    proxy.latencyMs = 40;
    const started = performance.now();
    await sendAttachment(base);
    assert.ok(performance.now() - started >= 40, "one round trip at least");

    const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
    assert.equal(transcript.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT").length, 2);
  } finally {
    await proxy.close();
    await stack.close();
  }
});
