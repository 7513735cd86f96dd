/**
 * The local bucket as real clients meet it: StartAttachmentUpload's real-shape
 * `HeadersToInclude` (all signed) and `UrlExpiry`; names with sequential, leading and trailing
 * spaces upload (from the worker and from the official SDK's flow), list under their exact
 * name and download intact; a refused PUT leaves the client's connection closed cleanly, never
 * reset; and the bucket's CORS rule lets the allowed origins, and only them, use it.
 */
import assert from "node:assert/strict";
import {
  CompleteAttachmentUploadCommand,
  ConnectParticipantClient,
  GetAttachmentCommand,
  StartAttachmentUploadCommand,
} from "@aws-sdk/client-connectparticipant";
import { openChat } from "../local/chat.ts";
import { type LocalStackOptions, startLocalStack } from "../local/stack.ts";
import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { putUpload, startUpload } from "./_http.ts";
import { randomBytes } from "../testing/data.ts";
import { runCommand } from "./_run.ts";
import { startRig } from "./_rig.ts";

/** What a real StartAttachmentUpload answer lists (amazon-connect-chatjs issue #188). */
const REAL_HEADER_NAMES = [
  "Content-Disposition",
  "Content-Length",
  "Content-Type",
  "x-amz-acl",
  "x-amz-meta-account_id",
  "x-amz-meta-contact_id",
  "x-amz-meta-initial_contact_id",
  "x-amz-meta-organization_id",
];

/** ISO-8601 in whole seconds, as the real service writes UrlExpiry. */
const WHOLE_SECONDS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

/** The local stack, the project's client on it (retries off) and an open chat. */
async function stackWithChat(options: LocalStackOptions = {}) {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, ...options });
  const client = createParticipantClient({ endpoint: stack.participantUrl, retry: false });
  const chat = await openChat(client).catch(async (error) => {
    await stack.close();
    throw error;
  });
  return { stack, client, chat };
}

/** CompleteAttachmentUpload, asserted to succeed, then GetAttachment's download URL. */
async function completeAndLocate(
  client: ParticipantClient,
  token: string,
  attachmentId: string,
): Promise<string> {
  const done = await client.completeAttachmentUpload(token, { AttachmentIds: [attachmentId] });
  assert.equal(done.error, undefined);
  const got = await client.getAttachment(token, { AttachmentId: attachmentId });
  assert.ok(got.data?.Url, JSON.stringify(got.error));
  return got.data.Url;
}

function sdkClient(endpoint: string) {
  return new ConnectParticipantClient({
    region: "us-east-1",
    endpoint,
    credentials: { accessKeyId: "AKIDLOCALEXAMPLE", secretAccessKey: "local-secret" },
    maxAttempts: 1,
  });
}

Deno.test("StartAttachmentUpload answers the real service's upload metadata", async () => {
  const { stack, client, chat } = await stackWithChat();
  try {
    const bytes = randomBytes(1_000, 2);
    const before = Date.now();
    const upload = await startUpload(client, chat.connectionToken, {
      name: "56102_file.txt",
      contentType: "text/plain",
      size: bytes.length,
    });
    const { url, expiry, headers } = upload;
    assert.deepEqual(Object.keys(headers).sort(), REAL_HEADER_NAMES);
    assert.equal(headers["Content-Type"], "text/plain");
    assert.equal(headers["Content-Length"], "1000");
    assert.equal(headers["Content-Disposition"], 'attachment; filename="56102_file.txt"');
    assert.equal(headers["x-amz-acl"], "bucket-owner-full-control");
    assert.equal(headers["x-amz-meta-contact_id"], chat.contactId);
    assert.equal(headers["x-amz-meta-initial_contact_id"], chat.contactId);
    assert.match(headers["x-amz-meta-account_id"], /^\d{12}$/);
    assert.equal(headers["x-amz-meta-organization_id"], "local-instance");
    const signed = new URL(url).searchParams.get("X-Amz-SignedHeaders")!.split(";");
    for (const name of REAL_HEADER_NAMES) {
      assert.ok(signed.includes(name.toLowerCase()), `${name} is signed`);
    }
    assert.match(expiry, WHOLE_SECONDS);
    const lifetime = Date.parse(expiry) - before;
    assert.ok(lifetime > 298_000 && lifetime <= 301_000, `UrlExpiry ${lifetime} ms ahead`);

    for (const left of ["x-amz-acl", "x-amz-meta-organization_id", "x-amz-meta-contact_id"]) {
      const partial = Object.fromEntries(Object.entries(headers).filter(([k]) => k !== left));
      const refused = await putUpload(url, partial, bytes);
      assert.equal(refused.status, 403, `${left} left out`);
      assert.equal(refused.code, "SignatureDoesNotMatch");
    }
    assert.equal((await putUpload(url, headers, bytes)).status, 200);
    const done = await client.completeAttachmentUpload(chat.connectionToken, {
      AttachmentIds: [upload.id],
    });
    assert.equal(done.error, undefined);
    const got = await client.getAttachment(chat.connectionToken, {
      AttachmentId: upload.id,
    });
    assert.match(got.data!.UrlExpiry!, WHOLE_SECONDS);
  } finally {
    await stack.close();
  }
});

/**
 * Names SigV4 canonicalizes: runs of spaces, and spaces around the name. (The worker takes
 * the type from a name's extension, so its names end in one; the service takes all.)
 */
const WORKER_NAMES = ["My  Report.pdf", "  leading  and   inner.pdf", "trailing   .txt"];
const SPACED_NAMES = [...WORKER_NAMES, "trailing spaces.txt  "];

Deno.test("names with sequential, leading and trailing spaces upload, list and download intact", async (t) => {
  await t.step("through the worker (workerd)", async () => {
    const rig = await startRig("workerd");
    try {
      for (const [i, name] of WORKER_NAMES.entries()) {
        const bytes = randomBytes(30_000 + i, 10 + i);
        const answer = await rig.upload(name, bytes);
        assert.equal(answer.status, 201, `${JSON.stringify(name)}: ${JSON.stringify(answer.json)}`);
        const id = answer.json.attachmentId as string;
        const got = await rig.client.getAttachment(rig.token, { AttachmentId: id });
        const download = await fetch(got.data!.Url!);
        assert.deepEqual(new Uint8Array(await download.arrayBuffer()), bytes);
        assert.equal(
          download.headers.get("content-disposition"),
          `attachment; filename="${name}"`,
          "S3 returns the header exactly as sent",
        );
      }
      const listed = (await rig.attachments()).map((a) => a.name);
      assert.deepEqual(listed.sort(), [...WORKER_NAMES].sort());
    } finally {
      await rig.close();
    }
  });

  await t.step("through the official SDK's flow", async () => {
    const { stack, client: ours, chat } = await stackWithChat();
    const sdk = sdkClient(stack.participantUrl);
    try {
      for (const [i, name] of SPACED_NAMES.entries()) {
        const bytes = randomBytes(20_000 + i, 20 + i);
        const started = await sdk.send(
          new StartAttachmentUploadCommand({
            ConnectionToken: chat.connectionToken,
            AttachmentName: name,
            ContentType: "application/pdf",
            AttachmentSizeInBytes: bytes.length,
          }),
        );
        const { Url, HeadersToInclude } = started.UploadMetadata!;
        const put = await putUpload(Url!, HeadersToInclude!, bytes);
        assert.equal(put.status, 200, `${JSON.stringify(name)}: ${put.code}`);
        await sdk.send(
          new CompleteAttachmentUploadCommand({
            ConnectionToken: chat.connectionToken,
            AttachmentIds: [started.AttachmentId!],
          }),
        );
        const got = await sdk.send(
          new GetAttachmentCommand({
            ConnectionToken: chat.connectionToken,
            AttachmentId: started.AttachmentId!,
          }),
        );
        const download = await fetch(got.Url!);
        assert.deepEqual(new Uint8Array(await download.arrayBuffer()), bytes);
      }
      const page = await ours.getTranscript(chat.connectionToken, { MaxResults: 100 });
      const names = page.data!.Transcript!.flatMap((i) => i.Attachments ?? []).map((a) =>
        a.AttachmentName
      );
      assert.deepEqual(names.sort(), [...SPACED_NAMES].sort());
    } finally {
      sdk.destroy();
      await stack.close();
    }
  });
});

/**
 * Run by Node (its `fetch` pools keep-alive connections): a PUT the bucket refuses, then
 * requests on the same pool. Prints one JSON line.
 */
const REUSE_SCRIPT = `
const [refusedUrl, headers, nextUrl] = JSON.parse(process.argv[1]);
const body = new Uint8Array(300000);
const out = { refused: null, next: [] };
const r = await fetch(refusedUrl, { method: "PUT", headers, body });
out.refused = { status: r.status, connection: r.headers.get("connection") };
await r.text();
for (let i = 0; i < 5; i++) {
  try {
    const n = await fetch(nextUrl);
    await n.arrayBuffer();
    out.next.push(String(n.status));
  } catch (e) {
    out.next.push(e.cause?.code ?? e.message);
  }
}
console.log(JSON.stringify(out));
`;

Deno.test("a refused PUT leaves the client's connection closed cleanly, never reset", async () => {
  const { stack, client, chat } = await stackWithChat();
  try {
    const bytes = randomBytes(300_000, 5);
    const file = { name: "kept.pdf", contentType: "application/pdf", size: bytes.length };
    const upload = await startUpload(client, chat.connectionToken, file);
    assert.equal((await putUpload(upload.url, upload.headers, bytes)).status, 200);
    const downloadUrl = await completeAndLocate(client, chat.connectionToken, upload.id);
    // A signature that does not match: refused before the body is read.
    const forged = upload.url.replace(
      /X-Amz-Signature=[0-9a-f]+/,
      `X-Amz-Signature=${"0".repeat(64)}`,
    );
    const run = await runCommand("node", [
      "--input-type=module",
      "-e",
      REUSE_SCRIPT,
      JSON.stringify([forged, upload.headers, downloadUrl]),
    ]);
    assert.equal(run.code, 0, run.stderr);
    const result = JSON.parse(run.stdout);
    assert.deepEqual(result.refused, { status: 403, connection: "close" });
    assert.deepEqual(result.next, ["200", "200", "200", "200", "200"]);

    // Answers that read the whole request keep the connection.
    const kept = await fetch(downloadUrl);
    assert.equal(kept.headers.get("connection"), "keep-alive");
    await kept.body?.cancel();
  } finally {
    await stack.close();
  }
});

Deno.test("the bucket's CORS rule: allowed origins may PUT and GET; others, and unset, may not", async () => {
  const page = "http://127.0.0.1:9999";
  const { stack, client, chat } = await stackWithChat({ s3CorsOrigins: [page] });
  const bare = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const bytes = randomBytes(500, 6);
    const file = { name: "cors.pdf", contentType: "application/pdf", size: bytes.length };
    const upload = await startUpload(client, chat.connectionToken, file);
    const requested = Object.keys(upload.headers).filter((h) => h !== "Content-Length")
      .map((h) => h.toLowerCase()).join(",");
    const preflight = (url: string, origin: string) =>
      fetch(url, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": requested,
        },
      });

    const allowed = await preflight(upload.url, page);
    assert.equal(allowed.status, 200);
    assert.equal(allowed.headers.get("access-control-allow-origin"), page);
    assert.match(allowed.headers.get("access-control-allow-methods")!, /PUT/);
    const allowedHeaders = allowed.headers.get("access-control-allow-headers")!.split(/,\s*/);
    for (const header of requested.split(",")) assert.ok(allowedHeaders.includes(header), header);
    await allowed.body?.cancel();

    const other = await preflight(upload.url, "http://evil.example");
    assert.equal(other.status, 403);
    assert.equal(other.headers.get("access-control-allow-origin"), null);
    await other.body?.cancel();

    const put = await fetch(upload.url, {
      method: "PUT",
      headers: { ...upload.headers, Origin: page },
      body: bytes,
    });
    assert.equal(put.status, 200);
    assert.equal(put.headers.get("access-control-allow-origin"), page);
    await put.body?.cancel();
    const downloadUrl = await completeAndLocate(client, chat.connectionToken, upload.id);
    const get = await fetch(downloadUrl, { headers: { Origin: page } });
    assert.equal(get.headers.get("access-control-allow-origin"), page);
    assert.deepEqual(new Uint8Array(await get.arrayBuffer()), bytes);
    const elsewhere = await fetch(downloadUrl, { headers: { Origin: "http://evil.example" } });
    assert.equal(elsewhere.headers.get("access-control-allow-origin"), null);
    await elsewhere.body?.cancel();

    // A bucket nobody gave a CORS rule refuses every preflight.
    const bareUrl =
      new URL(new URL(upload.url).pathname + new URL(upload.url).search, bare.s3.url).href;
    const refused = await preflight(bareUrl, page);
    assert.equal(refused.status, 403);
    assert.equal(refused.headers.get("access-control-allow-origin"), null);
    await refused.body?.cancel();
  } finally {
    await stack.close();
    await bare.close();
  }
});
