import assert from "node:assert/strict";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { fetchPut } from "../src/_core/put.ts";
import { deadlineOf, deadlinePut } from "../worker/deadlines.ts";
import { randomBytes } from "../testing/data.ts";
import { startProxiedStack } from "./_rig.ts";
import { settlesWithin } from "./_wait.ts";

/** A stack whose pre-signed URLs go through a proxy, with the calls each operation got. */
async function faultyStack(uploadUrlTtlSeconds = 300) {
  const proxied = await startProxiedStack({ uploadUrlTtlSeconds });
  const { stack, proxy, calls, client, connectionToken } = proxied;
  const bytes = randomBytes(300_000);
  const upload = {
    client,
    connectionToken,
    name: "report.pdf",
    contentType: "application/pdf",
    size: bytes.length,
    body: bytes,
    isUploadUrlAllowed: (url: URL) => url.host === new URL(proxy.url).host,
  };
  const attachments = async () => {
    const page = await client.getTranscript(connectionToken, { MaxResults: 100 });
    return page.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT").length;
  };
  return {
    stack,
    proxy,
    calls,
    upload,
    attachments,
    close: proxied.close,
  };
}

Deno.test("an upload to a stalled S3 is abandoned at its time budget, and nothing is completed", async () => {
  const t = await faultyStack();
  try {
    t.proxy.inject({ kind: "stall" });
    // The S3 stalls for ever: a deadline that never fires fails at the bound, not never.
    const { result } = await settlesWithin(
      sendAttachment({ ...t.upload, put: deadlinePut({ timeoutMs: 300 }) }),
      10_000,
      "a 300 ms upload budget",
    );
    await assert.rejects(
      Promise.reject((result as PromiseRejectedResult).reason),
      (e) =>
        e instanceof AttachmentError && e.code === "upload_failed" &&
        deadlineOf(e)?.reason === "budget",
    );
    assert.equal(t.calls.CompleteAttachmentUpload, undefined);
    assert.equal(await t.attachments(), 0);
    // The stalled connection was closed by the worker side, not left to hang.
    assert.equal(t.proxy.stats.faults, 1);
  } finally {
    await t.close();
  }
});

Deno.test("an upload still running when its pre-signed URL expires is abandoned", async () => {
  const t = await faultyStack(1);
  try {
    t.proxy.inject({ kind: "stall" });
    const { result } = await settlesWithin(
      sendAttachment({ ...t.upload, put: deadlinePut({ timeoutMs: 60_000 }) }),
      10_000,
      "a pre-signed URL's 1 s expiry",
    );
    await assert.rejects(
      Promise.reject((result as PromiseRejectedResult).reason),
      (e) => e instanceof AttachmentError && deadlineOf(e)?.reason === "url_expired",
    );
    assert.equal(t.calls.CompleteAttachmentUpload, undefined);
    assert.equal(await t.attachments(), 0);
  } finally {
    await t.close();
  }
});

Deno.test("S3 refusing an expired URL (403) fails the upload cleanly, with no completion", async () => {
  const t = await faultyStack(1);
  try {
    // Hold the PUT back until the URL has expired, then send it as it is.
    const late = async (url: string, init: Parameters<typeof fetchPut>[1]) => {
      await new Promise((r) => setTimeout(r, 2100));
      return fetchPut(url, init);
    };
    await assert.rejects(
      sendAttachment({ ...t.upload, put: late }),
      (e) =>
        e instanceof AttachmentError && e.code === "upload_refused" &&
        e.upstream?.service === "s3" && e.upstream.status === 403,
    );
    assert.equal(t.calls.CompleteAttachmentUpload, undefined);
    assert.equal(await t.attachments(), 0);
  } finally {
    await t.close();
  }
});

Deno.test("S3 refusing a tampered signature (403) fails the upload cleanly, with no completion", async () => {
  const t = await faultyStack();
  try {
    const tampered = (url: string, init: Parameters<typeof fetchPut>[1]) => {
      const u = new URL(url);
      const signature = u.searchParams.get("X-Amz-Signature")!;
      u.searchParams.set(
        "X-Amz-Signature",
        (signature[0] === "0" ? "1" : "0") + signature.slice(1),
      );
      return fetchPut(u.href, init);
    };
    // The deadline wrapper passes healthy uploads through.
    const sent = await sendAttachment({ ...t.upload, put: deadlinePut({ timeoutMs: 30_000 }) });
    assert.equal(sent.completed, true);
    await assert.rejects(
      sendAttachment({ ...t.upload, put: tampered }),
      (e) =>
        e instanceof AttachmentError && e.code === "upload_refused" &&
        e.upstream?.service === "s3" && e.upstream.status === 403 &&
        e.upstream.name === "SignatureDoesNotMatch",
    );
    assert.equal(t.calls.CompleteAttachmentUpload, 1, "only the good upload was completed");
    assert.equal(await t.attachments(), 1);
  } finally {
    await t.close();
  }
});
