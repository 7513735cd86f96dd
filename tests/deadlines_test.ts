import assert from "node:assert/strict";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { fetchPut } from "../src/_core/put.ts";
import { deadlineOf, deadlinePut } from "../worker/deadlines.ts";
import { randomBytes } from "../testing/data.ts";
import { type ProxiedStack, startProxiedStack } from "./_rig.ts";
import { settlesWithin } from "./_wait.ts";

/** A stack whose pre-signed URLs go through a proxy, and the upload of a 300 KB PDF. */
async function faultyStack(uploadUrlTtlSeconds = 300) {
  const proxied = await startProxiedStack({ uploadUrlTtlSeconds });
  return { ...proxied, upload: proxied.sendOptions("report.pdf", randomBytes(300_000)) };
}

/** No completion was asked for, and the chat holds no attachment. */
async function assertNothingCompleted(t: ProxiedStack): Promise<void> {
  assert.equal(t.calls.CompleteAttachmentUpload, undefined);
  assert.deepEqual(await t.attachments(), []);
}

/** Uploads that S3 stalls for ever, and the deadline that must end each. */
const STALLS = [
  {
    name: "an upload to a stalled S3 is abandoned at its time budget, and nothing is completed",
    urlTtlSeconds: 300,
    timeoutMs: 300,
    what: "a 300 ms upload budget",
    reason: "budget",
  },
  {
    name: "an upload still running when its pre-signed URL expires is abandoned",
    urlTtlSeconds: 1,
    timeoutMs: 60_000,
    what: "a pre-signed URL's 1 s expiry",
    reason: "url_expired",
  },
] as const;

for (const stall of STALLS) {
  Deno.test(stall.name, async () => {
    const t = await faultyStack(stall.urlTtlSeconds);
    try {
      t.proxy.inject({ kind: "stall" });
      // A deadline that never fires fails at the bound, not never.
      const { result } = await settlesWithin(
        sendAttachment({ ...t.upload, put: deadlinePut({ timeoutMs: stall.timeoutMs }) }),
        10_000,
        stall.what,
      );
      await assert.rejects(
        Promise.reject((result as PromiseRejectedResult).reason),
        (e) =>
          e instanceof AttachmentError && e.code === "upload_failed" &&
          deadlineOf(e)?.reason === stall.reason,
      );
      await assertNothingCompleted(t);
      // The stalled connection was closed by the worker side, not left to hang.
      assert.equal(t.proxy.stats.faults, 1);
    } finally {
      await t.close();
    }
  });
}

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
    await assertNothingCompleted(t);
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
    assert.equal((await t.attachments()).length, 1);
  } finally {
    await t.close();
  }
});
