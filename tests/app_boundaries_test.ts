import assert from "node:assert/strict";
import { eventually } from "./_wait.ts";
import { randomBytes } from "../testing/data.ts";
import { startRig } from "./_rig.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { workerFetch, workerRawHttp } from "./_worker_contract.ts";

const RUNTIMES: WorkerRuntime[] = ["workerd", "deno"];
const pdf = { "Content-Type": "application/pdf" };

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: an upload URL pointing at a host off the allow list is refused and never contacted`, async () => {
    const rig = await startRig(runtime);
    const bait = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    let connections = 0;
    const accepting = (async () => {
      try {
        for await (const conn of bait) {
          connections++;
          conn.close();
        }
      } catch { /* closed */ }
    })();
    const baitPort = (bait.addr as Deno.NetAddr).port;
    try {
      const allowed = new URL(rig.proxy.url);
      for (
        const foreign of [
          `http://127.0.0.1:${baitPort}`,
          `http://localhost:${baitPort}`,
          `http://${allowed.host}@127.0.0.1:${baitPort}`,
          `https://127.0.0.1:${baitPort}`,
        ]
      ) {
        rig.stack.service.s3.publicUrl = foreign;
        const sent = await rig.upload("a.pdf", randomBytes(1000), pdf);
        assert.equal(sent.status, 502, foreign);
        assert.equal(sent.json.code, "upload_host_not_allowed", foreign);
      }
      assert.equal(connections, 0, "nothing was sent to the foreign host");
      assert.equal(rig.calls.CompleteAttachmentUpload, undefined);
    } finally {
      bait.close();
      await accepting;
      await rig.close();
    }
  });

  Deno.test(`${runtime}: tokens and pre-signed URLs never appear in the worker's output, error bodies or logs`, async () => {
    const rig = await startRig(runtime, {
      vars: { UPLOAD_TIMEOUT_MS: "800", SERVICE_TIMEOUT_MS: "300", SERVICE_DEADLINE_MS: "900" },
    });
    const bodies: string[] = [];
    const keep = (response: { json: unknown; headers: Headers }) => {
      bodies.push(JSON.stringify(response.json), JSON.stringify([...response.headers]));
    };
    try {
      const body = randomBytes(50_000);
      keep(await rig.upload("ok.pdf", body, pdf));
      rig.proxy.inject({ kind: "respond", status: 403, code: "AccessDenied" });
      keep(await rig.upload("a.pdf", body, pdf));
      rig.proxy.inject({ kind: "reset", afterBytes: 1000 });
      keep(await rig.upload("a.pdf", body, pdf));
      rig.proxy.inject({ kind: "stall" });
      keep(await rig.upload("a.pdf", body, pdf));
      for (const kind of ["throttle", "error", "drop"] as const) {
        rig.stack.service.faults.add({ operation: "CompleteAttachmentUpload", kind, count: 9 });
        keep(await rig.upload("a.pdf", body, pdf));
        rig.stack.service.faults.clear();
      }
      rig.stack.service.s3.publicUrl = "http://127.0.0.1:9";
      keep(await rig.upload("a.pdf", body, pdf));
      const forged = await workerFetch(`${rig.worker.url}/attachments/nothing`, {
        headers: { Authorization: `Bearer ${rig.token}x` },
      });
      bodies.push(await forged.text());
      const hungUp = await workerRawHttp({
        url: `${rig.worker.url}/attachments/gone.pdf`,
        headers: { "X-Amz-Bearer": rig.token, "Content-Length": "100000" },
        body: body,
        hangUpAfterBytes: 20_000,
      });
      assert.equal(hungUp, undefined);
      await new Promise((r) => setTimeout(r, 500));

      const signatures = rig.proxy.heads.map((h) =>
        new URL(h.split(" ")[1], "http://x").searchParams.get("X-Amz-Signature")
      ).filter((s): s is string => !!s);
      assert.ok(signatures.length >= 4, "the scan has signatures to look for");
      const everything = [...rig.worker.logs, ...bodies].join("\n");
      assert.ok(rig.worker.logs.length > 5, "the worker did log");
      for (const secret of [rig.token, ...signatures]) {
        assert.ok(!everything.includes(secret), `a secret leaked: ${secret.slice(0, 8)}…`);
      }
      assert.doesNotMatch(everything, /X-Amz-(Signature|Credential)=/i);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: CORS answers only configured origins, and preflights for the API's headers`, async () => {
    const origin = "https://chat.example.com";
    const rig = await startRig(runtime, { corsOrigins: [origin] });
    try {
      const preflight = await workerFetch(`${rig.worker.url}/attachments/a.pdf`, {
        method: "OPTIONS",
        headers: {
          Origin: origin,
          "Access-Control-Request-Method": "PUT",
          "Access-Control-Request-Headers": "x-amz-bearer, content-type, idempotency-key",
        },
      });
      await preflight.body?.cancel();
      assert.ok(preflight.status === 204 || preflight.status === 200);
      assert.equal(preflight.headers.get("access-control-allow-origin"), origin);
      assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /PUT/);
      const allowed = (preflight.headers.get("access-control-allow-headers") ?? "").toLowerCase();
      for (
        const header of [
          "x-amz-bearer",
          "content-type",
          "idempotency-key",
          "authorization",
          "range",
        ]
      ) {
        assert.ok(allowed.includes(header), `${header} allowed in ${allowed}`);
      }
      const stranger = await workerFetch(`${rig.worker.url}/attachments/a.pdf`, {
        method: "OPTIONS",
        headers: { Origin: "https://evil.example", "Access-Control-Request-Method": "PUT" },
      });
      await stranger.body?.cancel();
      assert.notEqual(stranger.headers.get("access-control-allow-origin"), "https://evil.example");
      assert.notEqual(stranger.headers.get("access-control-allow-origin"), "*");
      const sent = await rig.upload("a.pdf", randomBytes(100), { ...pdf, Origin: origin });
      assert.equal(sent.status, 201);
      assert.equal(sent.headers.get("access-control-allow-origin"), origin);
      assert.match(sent.headers.get("access-control-expose-headers") ?? "", /Location/i);
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a token over its concurrency limit gets 429 with Retry-After; other tokens do not`, async () => {
    const rig = await startRig(runtime, { vars: { MAX_REQUESTS_PER_TOKEN: "2" } });
    try {
      // Two uploads held open by S3 stalling on them.
      rig.proxy.inject({ kind: "stall" }, 2);
      const held = [1, 2].map(() =>
        rig.upload("held.pdf", randomBytes(10_000), pdf).catch(() => undefined)
      );
      await eventually(() => rig.proxy.stats.faults === 2);
      const third = await rig.upload("third.pdf", randomBytes(10), pdf);
      assert.equal(third.status, 429);
      assert.equal(third.json.code, "too_many_requests");
      assert.match(third.headers.get("retry-after") ?? "", /^\d+$/);
      const other = await rig.client.raw.PUT("/contact/chat", {
        body: {
          InstanceId: "i",
          ContactFlowId: "f",
          ParticipantDetails: { DisplayName: "Other" },
        },
      });
      const connection = await rig.client.createParticipantConnection(
        other.data!.ParticipantToken!,
        { Type: ["CONNECTION_CREDENTIALS"] },
      );
      const otherToken = connection.data!.ConnectionCredentials!.ConnectionToken!;
      const elsewhere = await workerFetch(`${rig.worker.url}/attachments/b.pdf`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": otherToken, ...pdf },
        body: randomBytes(10),
      });
      await elsewhere.body?.cancel();
      assert.equal(elsewhere.status, 201, "another token is not limited");
      // Release the held uploads: closing the proxy's stalled connections fails them.
      rig.proxy.inject({ kind: "stall" }, 0);
      await Promise.all(held);
      const after = await rig.upload("after.pdf", randomBytes(10), pdf);
      assert.equal(after.status, 201, "the slots were freed");
    } finally {
      await rig.close();
    }
  });
}
