/**
 * "At once": a caller's abort, or a client that goes away, ends the work it started without
 * waiting for a pause, a stalled peer or a deadline to run out. Each case stalls something for
 * far longer than its bound (a 30 s `Retry-After`, an S3 that never answers, a two-minute
 * upload deadline), then aborts; the bound (10 s) catches an abort that takes effect only when
 * the stall ends, or never. It times nothing.
 *
 * @module
 */

import assert from "node:assert/strict";
import { uploadAttachment } from "../src/_library/upload.ts";
import { eventually, settlesWithin } from "./_wait.ts";
import { randomBytes } from "../testing/data.ts";
import { serveTiny } from "./_http.ts";
import { startProxiedStack, startRig } from "./_rig.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { workerRawHttp } from "./_worker_contract.ts";

const BOUND_MS = 10_000;

const inputs = {
  "bytes (sent by fetch)": () => ({ file: randomBytes(300_000) }),
  "a stream (sent by node:http)": () => ({
    file: ReadableStream.from([randomBytes(300_000)]),
    size: 300_000,
  }),
};

for (const [kind, input] of Object.entries(inputs)) {
  Deno.test(`uploadAttachment: aborting while S3 stalls ends the upload at once, nothing completed (${kind})`, async () => {
    const t = await startProxiedStack();
    try {
      t.proxy.inject({ kind: "stall" });
      const controller = new AbortController();
      const pending = uploadAttachment({
        endpoint: t.stack.participantUrl,
        connectionToken: t.connectionToken,
        name: "report.pdf",
        ...input(),
        isUploadUrlAllowed: t.isProxyUrl,
        signal: controller.signal,
      });
      await eventually(() => t.proxy.stats.faults === 1);
      controller.abort(new DOMException("the user cancelled", "AbortError"));
      const { result } = await settlesWithin(pending, BOUND_MS, "the abort of a stalled upload");
      assert.equal(result.status, "rejected");
      assert.equal((result as PromiseRejectedResult).reason?.name, "AbortError");
      assert.equal(t.calls.CompleteAttachmentUpload, undefined);
      // The stalled connection to S3 was let go.
      await eventually(() => assert.equal(t.proxy.openConnections, 0));
    } finally {
      await t.close();
    }
  });
}

Deno.test("uploadAttachment: aborting during a 30 s Retry-After pause ends it at once", async () => {
  const service = serveTiny(() =>
    Response.json({ Message: "slow down" }, {
      status: 503,
      headers: { "Retry-After": "30", "X-Amzn-ErrorType": "InternalServerException" },
    })
  );
  try {
    const controller = new AbortController();
    const pending = uploadAttachment({
      endpoint: service.url,
      retry: { maxDelayMs: 60_000, deadlineMs: 120_000 },
      connectionToken: "token",
      file: randomBytes(1000),
      name: "report.pdf",
      signal: controller.signal,
    });
    await eventually(() => service.requests === 1);
    controller.abort();
    const { result } = await settlesWithin(pending, BOUND_MS, "the abort during a 30 s pause");
    assert.equal(result.status, "rejected");
    assert.equal((result as PromiseRejectedResult).reason?.name, "AbortError");
    assert.equal(service.requests, 1, "no try after the abort");
  } finally {
    await service.close();
  }
});

for (const runtime of ["workerd", "deno"] as WorkerRuntime[]) {
  Deno.test(`${runtime}: a client that goes away mid-body while S3 stalls ends the worker's upload at once, nothing completed`, async () => {
    // The upload deadline (UPLOAD_TIMEOUT_MS) stays at its two minutes and the URL lives five:
    // only the client's going away can end this upload within the bound. (A client that leaves
    // after its whole body went through is not noticed at all: neither Deno nor workerd tells
    // a handler that the connection closed until it writes the answer.)
    const rig = await startRig(runtime);
    try {
      rig.proxy.inject({ kind: "stall" });
      const size = 4 * 2 ** 20;
      const gone = await workerRawHttp({
        url: `${rig.worker.url}/attachments/abandoned.pdf`,
        headers: { "X-Amz-Bearer": rig.token, "Content-Length": String(size) },
        body: randomBytes(size),
        hangUpAfterBytes: size / 2,
      });
      assert.equal(gone, undefined);
      const { result } = await settlesWithin(
        rig.worker.waitForLog((l) => l.includes('"path":"/attachments/abandoned.pdf"'), 180_000),
        BOUND_MS,
        "the worker's upload after its client went away",
      );
      assert.equal(result.status, "fulfilled");
      const line = (result as PromiseFulfilledResult<string>).value;
      const logged = JSON.parse(line.slice(line.indexOf("{")));
      assert.notEqual(logged.status, 201, line);
      assert.notEqual(logged.code, "upload_timeout", line);
      assert.equal(rig.proxy.stats.faults, 1, "the upload had reached the stalled S3");
      assert.equal(rig.calls.CompleteAttachmentUpload, undefined);
      await eventually(() => assert.equal(rig.proxy.openConnections, 0));
      assert.deepEqual(await rig.attachments(), []);
    } finally {
      await rig.close();
    }
  });
}
