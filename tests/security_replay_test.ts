/**
 * Replays (the same `Idempotency-Key` after a completed upload) are bounded and honest: the
 * body they drain has a deadline, a client that goes away during one is logged as
 * `client_disconnected`, and a reused key with another file (name, type or size) is a 422
 * `idempotency_key_reused` that makes no upstream call and never names the other attachment.
 * Stand-in service and S3 on real sockets, the worker in workerd and in Deno.
 */

import assert from "node:assert/strict";
import { openRaw } from "../testing/raw_http.ts";
import { loggedRequest, startStandIns } from "./_standin.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: a replay's body has a deadline, and a client that leaves during it is client_disconnected`, async () => {
    const rig = await startStandIns(runtime, { UPLOAD_TIMEOUT_MS: "3000" });
    try {
      const { token, worker, service } = rig;
      const size = 100_000;
      const first = await fetch(`${worker.url}/attachments/replayed.pdf`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token, "Idempotency-Key": "replay-key" },
        body: new Uint8Array(size).fill(1),
      });
      const sent = await first.json();
      assert.equal(first.status, 201, JSON.stringify(sent));
      const calls = { ...service.calls };

      // The same request again, its body stopping after 1000 bytes: cut at the deadline.
      const head = {
        "X-Amz-Bearer": token,
        "Idempotency-Key": "replay-key",
        "Content-Type": "application/pdf",
        "Content-Length": String(size),
      };
      const mark = worker.logs.length;
      const stalled = await openRaw(`${worker.url}/attachments/replayed.pdf?stall`, head);
      await stalled.write(new Uint8Array(1000));
      // The generous bound catches "never"; the answer is due at 3 s.
      const answer = await Promise.race([
        stalled.answer,
        new Promise<undefined>((r) => setTimeout(() => r(undefined), 20_000)),
      ]);
      stalled.close();
      assert.ok(answer, "no answer within 20 s: the replay waited on the body");
      assert.equal(answer.status, 504);
      assert.match(answer.text, /"code":"upload_timeout"/);
      const logged = await loggedRequest(worker, "/attachments/replayed.pdf", mark);
      assert.equal(logged.code, "upload_timeout");

      // Another completed upload, replayed by a client that goes away halfway through its body.
      const second = await fetch(`${worker.url}/attachments/left.pdf`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token, "Idempotency-Key": "replay-left" },
        body: new Uint8Array(size).fill(2),
      });
      assert.equal(second.status, 201);
      await loggedRequest(worker, "/attachments/left.pdf");
      const before = worker.logs.length;
      const away = await openRaw(`${worker.url}/attachments/left.pdf`, {
        ...head,
        "Idempotency-Key": "replay-left",
      });
      await away.write(new Uint8Array(20_000));
      await new Promise((r) => setTimeout(r, 300));
      away.close();
      const entry = await loggedRequest(worker, "/attachments/left.pdf", before);
      assert.equal(entry.code, "client_disconnected", JSON.stringify(entry));
      assert.ok(!worker.logs.some((l) => /internal_error|internal error/.test(l)));
      // Replays make no upstream call.
      assert.equal(service.calls.CompleteAttachmentUpload, calls.CompleteAttachmentUpload + 1);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a reused Idempotency-Key with another file is 422 idempotency_key_reused, never the other attachment`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { token, worker, service } = rig;
      const put = (name: string, body: Uint8Array<ArrayBuffer>, type = "application/pdf") =>
        fetch(`${worker.url}/attachments/${name}`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": token, "Idempotency-Key": "one-key", "Content-Type": type },
          body,
        });
      const first = await put("a.pdf", new Uint8Array(1000).fill(1));
      const sent = await first.json();
      assert.equal(first.status, 201, JSON.stringify(sent));
      const starts = service.calls.StartAttachmentUpload;

      const others: [string, Uint8Array<ArrayBuffer>, string][] = [
        ["b.pdf", new Uint8Array(1000).fill(1), "application/pdf"],
        ["a.pdf", new Uint8Array(1001).fill(1), "application/pdf"],
        ["a.pdf", new Uint8Array(1000).fill(1), "text/plain"],
      ];
      for (const [name, body, type] of others) {
        const answer = await put(name, body, type);
        const text = await answer.text();
        assert.equal(answer.status, 422, `${name} ${body.length} ${type}: ${text}`);
        const problem = JSON.parse(text);
        assert.equal(problem.code, "idempotency_key_reused");
        assert.equal(answer.headers.get("content-type"), "application/problem+json");
        assert.ok(!text.includes(sent.attachmentId), "the other attachment is not named");
      }
      assert.equal(service.calls.StartAttachmentUpload, starts, "no upstream call");

      // The same file with the same key is still answered as before.
      const again = await put("a.pdf", new Uint8Array(1000).fill(1));
      assert.equal(again.status, 201);
      assert.equal((await again.json()).attachmentId, sent.attachmentId);
    } finally {
      await rig.close();
    }
  });
}
