import assert from "node:assert/strict";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { startProxiedStack } from "./_rig.ts";
import { randomBytes } from "../testing/data.ts";

Deno.test("the S3 proxy forwards signed uploads untouched and injects faults", async () => {
  const t = await startProxiedStack();
  const { proxy } = t;
  try {
    const base = t.sendOptions("a.pdf", randomBytes(200_000));
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

    assert.equal((await t.attachments()).length, 2);
  } finally {
    await t.close();
  }
});
