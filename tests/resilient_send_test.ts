import assert from "node:assert/strict";
import { eventually } from "./_wait.ts";
import { processMemory, tcpConnections } from "../testing/processes.ts";
import { randomBytes } from "../testing/data.ts";
import { startRig } from "./_rig.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { workerRawHttp } from "./_worker_contract.ts";

const RUNTIMES: WorkerRuntime[] = ["workerd", "deno"];
const pdf = { "Content-Type": "application/pdf" };

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: throttling and 5xx from the service are retried with the same ClientToken; one attachment`, async () => {
    const rig = await startRig(runtime);
    try {
      rig.stack.service.faults.add({
        operation: "StartAttachmentUpload",
        kind: "throttle",
        count: 2,
      });
      rig.stack.service.faults.add({
        operation: "CompleteAttachmentUpload",
        kind: "error",
        count: 2,
      });
      const sent = await rig.upload("a.pdf", randomBytes(50_000), {
        ...pdf,
        "Idempotency-Key": "retry-same-token",
      });
      assert.equal(sent.status, 201, JSON.stringify(sent.json));
      assert.equal(rig.calls.StartAttachmentUpload, 3);
      assert.equal(rig.calls.CompleteAttachmentUpload, 3);
      assert.deepEqual((await rig.attachments()).map((a) => a.id), [sent.json.attachmentId]);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: throttling that outlasts the retries is a 429 with Retry-After; 5xx a 502; nothing reaches S3`, async () => {
    const rig = await startRig(runtime);
    try {
      const outcomes = [
        ["throttle", 429, "throttled"],
        ["error", 502, "service_unavailable"],
        ["drop", 502, "service_unavailable"],
      ] as const;
      for (const [kind, status, code] of outcomes) {
        rig.stack.service.faults.clear();
        rig.stack.service.faults.add({ operation: "StartAttachmentUpload", kind, count: 99 });
        const answer = await rig.upload("a.pdf", randomBytes(1000), pdf);
        assert.equal(answer.status, status, kind);
        assert.equal(answer.json.code, code, kind);
        if (status === 429) assert.match(answer.headers.get("retry-after") ?? "", /^\d+$/);
      }
      assert.equal(rig.proxy.stats.requests, 0, "no byte went to S3");
      assert.equal(rig.calls.CompleteAttachmentUpload, undefined);
      assert.equal((await rig.attachments()).length, 0);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: S3 answering 5xx, cutting the connection or refusing the signature fails cleanly, with no completion`, async () => {
    const rig = await startRig(runtime);
    try {
      const body = randomBytes(300_000);
      rig.proxy.inject({ kind: "respond", status: 503, code: "SlowDown" });
      const slow = await rig.upload("a.pdf", body, pdf);
      assert.equal(slow.status, 502);
      assert.equal(slow.json.code, "upload_failed");
      assert.deepEqual(
        [
          (slow.json.upstream as Record<string, unknown>)?.service,
          (slow.json.upstream as Record<string, unknown>)?.name,
        ],
        ["s3", "SlowDown"],
      );
      rig.proxy.inject({ kind: "reset", afterBytes: 100_000 });
      const cut = await rig.upload("a.pdf", body, pdf);
      assert.equal(cut.status, 502);
      assert.equal(cut.json.code, "upload_failed");
      const secret = rig.stack.service.s3.secretAccessKey;
      rig.stack.service.s3.secretAccessKey = "not-the-key";
      const forged = await rig.upload("a.pdf", body, pdf);
      rig.stack.service.s3.secretAccessKey = secret;
      assert.equal(forged.status, 502);
      assert.equal(forged.json.code, "upload_refused");
      assert.equal(
        (forged.json.upstream as Record<string, unknown>)?.name,
        "SignatureDoesNotMatch",
      );
      assert.equal(rig.calls.CompleteAttachmentUpload, undefined, "no completion was sent");
      assert.equal((await rig.attachments()).length, 0);
      assert.equal(await rig.storedObjects(), 0);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a dead peer never holds a request: stalled S3 and a silent service end at their deadlines`, async () => {
    const rig = await startRig(runtime, {
      vars: { UPLOAD_TIMEOUT_MS: "1000", SERVICE_TIMEOUT_MS: "300", SERVICE_DEADLINE_MS: "1500" },
    });
    try {
      rig.proxy.inject({ kind: "stall" });
      const stalled = await rig.upload("a.pdf", randomBytes(100_000), pdf);
      assert.equal(stalled.status, 504);
      assert.equal(stalled.json.code, "upload_timeout");
      rig.stack.service.faults.add({
        operation: "StartAttachmentUpload",
        kind: "delay",
        delayMs: 3000,
        count: 99,
      });
      const silent = await rig.upload("a.pdf", randomBytes(1000), pdf);
      assert.equal(silent.status, 502);
      assert.equal(silent.json.code, "service_unavailable");
      assert.equal(rig.calls.CompleteAttachmentUpload, undefined);
      assert.equal((await rig.attachments()).length, 0);
      rig.stack.service.faults.clear();
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a client that hangs up, stops short or trickles past the URL's expiry leaves no attachment, no open connection and no memory behind`, async () => {
    const rig = await startRig(runtime, { uploadUrlTtlSeconds: 2, inspect: true });
    try {
      const pid = rig.worker.pid;
      const workerPort = Number(new URL(rig.worker.url).port);
      const fromClients = () =>
        tcpConnections(pid).filter((c) => c.localPort === workerPort && c.state !== "LISTEN");
      // Warm the worker's connection pools (four at once, as below), then take the baseline:
      // the test's own pooled connections to the worker, the worker's to S3, its memory.
      const warm = await Promise.all(
        [1, 2, 3, 4].map((i) => rig.upload(`warm${i}.pdf`, randomBytes(100_000, i), pdf)),
      );
      assert.deepEqual(warm.map((w) => w.status), [201, 201, 201, 201]);
      await rig.worker.collectGarbage!();
      const before = {
        clients: fromClients().length,
        s3: rig.proxy.openConnections,
        rss: processMemory(pid).rss,
      };

      // Four clients declare 20 MB each and hang up after 10 MB: 40 MB that must not stay.
      const headers = { "X-Amz-Bearer": rig.token, "Content-Type": "application/pdf" };
      const MiB = 2 ** 20;
      const chunk = randomBytes(MiB, 9);
      const hungUp = await Promise.all([0, 1, 2, 3].map((i) =>
        workerRawHttp({
          url: `${rig.worker.url}/attachments/half${i}.pdf`,
          headers: { ...headers, "Content-Length": String(20 * MiB) },
          body: Array(20).fill(chunk),
          hangUpAfterBytes: 10 * MiB,
        })
      ));
      assert.deepEqual(hungUp, [undefined, undefined, undefined, undefined]);

      // The hang-ups cancelled their uploads to S3 (the broken body ended them: not the URL's
      // expiry, not a completion). Their log lines also say that their slots of the per-token
      // limit are free again.
      for (let i = 0; i < 4; i++) {
        const line = await rig.worker.waitForLog((l) => l.includes(`/attachments/half${i}.pdf"`));
        const logged = JSON.parse(line);
        assert.notEqual(logged.status, 201, line);
        assert.notEqual(logged.code, "upload_timeout", line);
      }

      // Fewer bytes than declared, the connection kept open: the URL expires, the worker ends it.
      const short = await workerRawHttp({
        url: `${rig.worker.url}/attachments/short.pdf`,
        headers: { ...headers, "Content-Length": "1000000" },
        body: (async function* () {
          yield randomBytes(100_000);
          await new Promise((r) => setTimeout(r, 4000));
        })(),
      }).catch(() => undefined);
      // Trickling: a few bytes a second until well past the URL's expiry.
      const trickle = workerRawHttp({
        url: `${rig.worker.url}/attachments/slow.pdf`,
        headers: { ...headers, "Content-Length": "400" },
        body: (async function* () {
          for (let i = 0; i < 8; i++) {
            yield randomBytes(50, i + 1);
            await new Promise((r) => setTimeout(r, 500));
          }
        })(),
      });
      assert.equal(short?.status, 504);
      assert.match(short!.text, /upload_timeout/);
      const slow = await trickle.catch(() => undefined);
      assert.ok(slow === undefined || slow.status === 504, `got ${slow?.status}`);

      await eventually(async () => {
        assert.equal((await rig.attachments()).length, 4, "only the warm-up uploads");
        assert.equal(rig.calls.CompleteAttachmentUpload, 4);
        // Every connection of the broken requests is closed, on both sides of the worker.
        assert.ok(fromClients().length <= before.clients, JSON.stringify(fromClients()));
        assert.ok(rig.proxy.openConnections <= before.s3, `${rig.proxy.openConnections} to S3`);
      });
      await rig.worker.collectGarbage!();
      const grew = processMemory(pid).rss - before.rss;
      assert.ok(grew < 16 * MiB, `the worker kept ${(grew / MiB).toFixed(1)} MiB`);
    } finally {
      await rig.close();
    }
  });
}
