/**
 * The local S3 refuses uploads that do not match their pre-signed URL, as S3 does: a signed
 * header left out or altered, a body of another length, a tampered URL, an expired URL.
 */
import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { putUpload, type StartedUpload, startUpload } from "./_http.ts";
import { randomBytes } from "../testing/data.ts";

const REFUSED = ["SignatureDoesNotMatch", "AccessDenied"];

/** StartAttachmentUpload of a PDF of `size` bytes. */
const startPdf = (client: ParticipantClient, token: string, size: number) =>
  startUpload(client, token, { name: "scan.pdf", contentType: "application/pdf", size });

function without(headers: Record<string, string>, name: string): Record<string, string> {
  const kept = Object.entries(headers).filter(([k]) => k.toLowerCase() !== name.toLowerCase());
  assert.equal(kept.length, Object.keys(headers).length - 1, `${name} was among the headers`);
  return Object.fromEntries(kept);
}

Deno.test("the local S3 refuses a PUT that does not match its signature", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const client = createParticipantClient({ endpoint: stack.participantUrl, retry: false });
  const { connectionToken } = await openChat(client);
  const bytes = randomBytes(2048, 3);
  try {
    await t.step("HeadersToInclude signs type, length, disposition and metadata", async () => {
      const upload = await startPdf(client, connectionToken, bytes.length);
      const names = Object.keys(upload.headers).map((k) => k.toLowerCase());
      for (const name of ["content-type", "content-length", "content-disposition"]) {
        assert.ok(names.includes(name), `${name} in ${names}`);
      }
      assert.ok(names.some((n) => n.startsWith("x-amz-meta-")), `x-amz-meta-* in ${names}`);
      const signed = new URL(upload.url).searchParams.get("X-Amz-SignedHeaders")!.split(";");
      for (const name of names) assert.ok(signed.includes(name), `${name} is signed`);
      assert.match(upload.headers["Content-Disposition"], /^attachment; filename="scan\.pdf"$/);
    });

    const refusals: [string, (u: StartedUpload) => Promise<unknown>][] = [
      [
        "Content-Disposition left out",
        (u) => putUpload(u.url, without(u.headers, "Content-Disposition"), bytes),
      ],
      ["an x-amz-meta-* header left out", (u) => {
        const meta = Object.keys(u.headers).find((k) => k.startsWith("x-amz-meta-"))!;
        return putUpload(u.url, without(u.headers, meta), bytes);
      }],
      ["Content-Type left out", (u) => putUpload(u.url, without(u.headers, "Content-Type"), bytes)],
      [
        "Content-Type altered",
        (u) => putUpload(u.url, { ...u.headers, "Content-Type": "image/png" }, bytes),
      ],
      ["Content-Disposition altered", (u) =>
        putUpload(
          u.url,
          { ...u.headers, "Content-Disposition": 'attachment; filename="other.pdf"' },
          bytes,
        )],
      ["x-amz-meta-* value altered", (u) => {
        const meta = Object.keys(u.headers).find((k) => k.startsWith("x-amz-meta-"))!;
        return putUpload(u.url, { ...u.headers, [meta]: "someone-else" }, bytes);
      }],
      [
        "a shorter body than declared",
        (u) => putUpload(u.url, without(u.headers, "Content-Length"), bytes.subarray(0, 1000)),
      ],
      [
        "a longer body than declared",
        (u) => putUpload(u.url, without(u.headers, "Content-Length"), randomBytes(4096)),
      ],
      ["the URL's expiry tampered with", (u) => {
        const url = new URL(u.url);
        url.searchParams.set("X-Amz-Expires", "604800");
        return putUpload(url.href, u.headers, bytes);
      }],
    ];
    for (const [name, attempt] of refusals) {
      await t.step(`403 for ${name}; nothing is stored, so completing is a conflict`, async () => {
        const upload = await startPdf(client, connectionToken, bytes.length);
        const answer = await attempt(upload) as { status: number; code?: string };
        assert.equal(answer.status, 403, JSON.stringify(answer));
        assert.ok(REFUSED.includes(answer.code!), JSON.stringify(answer));
        const done = await client.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [upload.id],
        });
        assert.equal(done.error?.name, "ConflictException");
        assert.equal(done.error?.status, 409);
      });
    }

    await t.step("the same upload with its headers intact is accepted and completes", async () => {
      const upload = await startPdf(client, connectionToken, bytes.length);
      assert.equal((await putUpload(upload.url, upload.headers, bytes)).status, 200);
      const done = await client.completeAttachmentUpload(connectionToken, {
        AttachmentIds: [upload.id],
      });
      assert.equal(done.error, undefined);
    });

    await t.step("CompleteAttachmentUpload without any upload is a ConflictException", async () => {
      const upload = await startPdf(client, connectionToken, 10);
      const done = await client.completeAttachmentUpload(connectionToken, {
        AttachmentIds: [upload.id],
      });
      assert.equal(done.error?.name, "ConflictException");
      const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
      const listed = transcript.data!.Transcript!.flatMap((i) => i.Attachments ?? []);
      assert.ok(!listed.some((a) => a.AttachmentId === upload.id));
    });
  } finally {
    await stack.close();
  }
});

Deno.test("the local S3 refuses a PUT after the URL expired", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, uploadUrlTtlSeconds: 1 });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl, retry: false });
    const { connectionToken } = await openChat(client);
    const bytes = randomBytes(100);
    const upload = await startPdf(client, connectionToken, bytes.length);
    // SigV4 dates have whole seconds: wait until a full second past UrlExpiry.
    await new Promise((r) =>
      setTimeout(r, Math.max(0, Date.parse(upload.expiry) - Date.now()) + 1100)
    );
    const answer = await putUpload(upload.url, upload.headers, bytes);
    assert.equal(answer.status, 403, JSON.stringify(answer));
    assert.equal(answer.code, "AccessDenied");
    const done = await client.completeAttachmentUpload(connectionToken, {
      AttachmentIds: [upload.id],
    });
    assert.equal(done.error?.name, "ConflictException");
  } finally {
    await stack.close();
  }
});
