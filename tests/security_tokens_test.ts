/**
 * Made-up tokens cost the Participant Service little: a token that cannot be a ConnectionToken
 * (over 1000 characters, spaces, control or non-ASCII characters) is refused with 401 before
 * any upstream call, real-looking ones pass, and calls with tokens the service never accepted
 * share a small retry budget, while a token it accepted is retried as ever. Stand-in service
 * and S3 on real sockets, the worker in workerd and in Deno.
 */

import assert from "node:assert/strict";
import { openRaw } from "../testing/raw_http.ts";
import { startStandIns } from "./_standin.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

const pdf = { "Content-Type": "application/pdf" };

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: tokens of an impossible shape are 401 before any call; real shapes pass`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { worker, service, token } = rig;
      const url = `${worker.url}/attachments/t.pdf`;
      const body = new Uint8Array(10);
      const malformed = ["x".repeat(1001), "two words", "Bearer x", 'a"b c'];
      for (const bad of malformed) {
        const answer = await fetch(url, {
          method: "PUT",
          headers: { "X-Amz-Bearer": bad, ...pdf },
          body,
        });
        const problem = await answer.json();
        assert.equal(answer.status, 401, bad.slice(0, 20));
        assert.equal(problem.code, "missing_token");
        assert.match(problem.detail, /malformed/);
        assert.ok(!problem.detail.includes(bad), "the token is not echoed");
      }
      for (const bad of ["tökén", "to\x01ken", "tok\u202een"]) {
        const exchange = await openRaw(url, {
          "X-Amz-Bearer": bad,
          ...pdf,
          "Content-Length": String(body.length),
        });
        await exchange.write(body).catch(() => {});
        const answer = await exchange.answer;
        exchange.close();
        // A runtime may refuse the header itself (400); the worker refuses the token (401).
        assert.ok([400, 401].includes(answer.status), `${JSON.stringify(bad)}: ${answer.status}`);
      }
      assert.deepEqual(service.calls.StartAttachmentUpload, 0, "no call for any of them");

      // The longest token the model allows, in base64's full alphabet: the service is asked
      // (and refuses it, as it does not know it).
      const longest = ("AbC+/9=".repeat(143) + "xyz").slice(0, 1000);
      const unknown = await fetch(url, {
        method: "PUT",
        headers: { Authorization: `Bearer ${longest}`, ...pdf },
        body,
      });
      assert.equal(unknown.status, 403, await unknown.text());
      assert.equal(service.calls.StartAttachmentUpload, 1);
      const known = await fetch(url, { method: "PUT", headers: { "X-Amz-Bearer": token }, body });
      assert.equal(known.status, 201, await known.text());
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: retries of calls with tokens the service never accepted share a small budget`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { worker, service, token } = rig;
      const put = (auth: string) =>
        fetch(`${worker.url}/attachments/t.pdf`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": auth, ...pdf },
          body: new Uint8Array(10),
        }).then(async (r) => ({ status: r.status, code: (await r.json()).code }));
      // The rig's token is accepted once: it is a proven token from now on.
      assert.equal((await put(token)).status, 201);
      const before = service.calls.StartAttachmentUpload;

      // 30 made-up tokens while the service throttles everything: 3 tries each would be 90
      // calls; the shared budget allows 10 retries at once and 1 more per second.
      service.throttle(1_000_000);
      const started = Date.now();
      const made = Array.from(
        { length: 30 },
        (_, i) => `made-up-token-${i}-${crypto.randomUUID()}`,
      );
      const answers = await Promise.all(made.map(put));
      const seconds = (Date.now() - started) / 1000;
      for (const answer of answers) assert.deepEqual(answer, { status: 429, code: "throttled" });
      const calls = service.calls.StartAttachmentUpload - before;
      assert.ok(calls >= 30, `${calls}`);
      assert.ok(calls <= 30 + 10 + Math.ceil(seconds), `${calls} calls in ${seconds} s`);

      // The proven token is still retried: two throttled tries, then the upload.
      service.throttle(2);
      const starts = service.calls.StartAttachmentUpload;
      assert.deepEqual(await put(token), { status: 201, code: undefined });
      assert.equal(service.calls.StartAttachmentUpload - starts, 3);
    } finally {
      await rig.close();
    }
  });
}
