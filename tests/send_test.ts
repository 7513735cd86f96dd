import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { randomBytes, sha256 } from "../testing/data.ts";

const localOnly = { isUploadUrlAllowed: (url: URL) => url.hostname === "127.0.0.1" };

Deno.test("sendAttachment starts, uploads and completes; the bytes come back intact", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const bytes = randomBytes(123_456, 7);
    const sent = await sendAttachment({
      client,
      connectionToken,
      name: "notes.txt",
      contentType: "text/plain; charset=utf-8",
      size: bytes.length,
      body: bytes,
      ...localOnly,
    });
    assert.equal(sent.completed, true);
    assert.equal(sent.contentType, "text/plain");
    const got = await client.getAttachment(connectionToken, { AttachmentId: sent.attachmentId });
    const download = await fetch(got.data!.Url!);
    assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));
  } finally {
    await stack.close();
  }
});

Deno.test("sendAttachment refuses bad input before any call, and never completes a refused PUT", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const base = { client, connectionToken, ...localOnly };
    await assert.rejects(
      sendAttachment({
        ...base,
        name: "a.exe",
        contentType: "application/x-msdownload",
        size: 1,
        body: "x",
        allowedTypes: ["pdf", "txt"],
      }),
      (e) =>
        e instanceof AttachmentError && e.code === "unsupported_type" && e.stage === "validate",
    );
    await assert.rejects(
      sendAttachment({ ...base, name: "setup", size: 1, body: "x" }),
      (e) =>
        e instanceof AttachmentError && e.code === "unsupported_type" && e.stage === "validate",
    );
    await assert.rejects(
      sendAttachment({
        ...base,
        name: "big.pdf",
        contentType: "application/pdf",
        size: 104_857_601,
        body: "x",
      }),
      (e) => e instanceof AttachmentError && e.code === "too_large" && e.stage === "validate",
    );
    // A policy that cannot be applied: over Amazon Connect's bound against AWS itself.
    await assert.rejects(
      sendAttachment({
        client: createParticipantClient({ region: "eu-west-2" }),
        connectionToken,
        name: "a.pdf",
        size: 1,
        body: "x",
        maxBytes: 200_000_000,
      }),
      (e) =>
        e instanceof TypeError &&
        /maxBytes must be a whole number of bytes from 1 to 104857600/.test(e.message),
    );
    // Declared 10 bytes, sent 5: S3 refuses the signature (Content-Length is signed).
    await assert.rejects(
      sendAttachment({
        ...base,
        name: "short.txt",
        contentType: "text/plain",
        size: 10,
        body: "12345",
      }),
      (e) => e instanceof AttachmentError && e.stage === "upload" && e.code === "upload_refused",
    );
    // The default allow list takes https only: a plain-http upload URL is never contacted.
    await assert.rejects(
      sendAttachment({
        client,
        connectionToken,
        name: "a.txt",
        contentType: "text/plain",
        size: 1,
        body: "x",
      }),
      (e) => e instanceof AttachmentError && e.code === "upload_host_not_allowed",
    );
    const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
    assert.equal(transcript.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT").length, 0);
  } finally {
    await stack.close();
  }
});
