/**
 * The per-token limit cannot be dodged and holds for as long as a request works: one token
 * parser for the app and the limit (any spelling that authenticates is counted; any other is
 * refused before an upstream call), a download keeps its slot until its body has finished or
 * been cancelled, and every download body has a deadline. Stand-in service and S3 on real
 * sockets, the worker in workerd and in Deno.
 */

import assert from "node:assert/strict";
import { eventually } from "./_wait.ts";
import { openRaw } from "../testing/raw_http.ts";
import { type StandIns, startStandIns } from "./_standin.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

/**
 * S3 bodies that never end until cancelled (or released): `stalled` sends one chunk, then
 * nothing; `trickling` sends 1 KiB every 50 ms, as a long download does to a client that
 * reads nothing (workerd notices a client that went away at its next write, as TCP does).
 */
function hangingBodies(kind: "stalled" | "trickling") {
  const open = new Set<ReadableStreamDefaultController<Uint8Array>>();
  let cancelled = 0;
  let opened = 0;
  return {
    body() {
      let controller!: ReadableStreamDefaultController<Uint8Array>;
      return new ReadableStream<Uint8Array>({
        start(c) {
          controller = c;
          open.add(c);
          opened++;
          c.enqueue(new Uint8Array(16 * 1024).fill(1));
        },
        async pull(c) {
          if (kind === "stalled") return;
          await new Promise((r) => setTimeout(r, 50));
          if (open.has(c)) c.enqueue(new Uint8Array(1024).fill(2));
        },
        cancel() {
          open.delete(controller);
          cancelled++;
        },
      });
    },
    get cancelled() {
      return cancelled;
    },
    get opened() {
      return opened;
    },
    /** Ends the bodies still open, so that the stand-in S3 can shut down. */
    release() {
      for (const c of [...open]) {
        try {
          c.close();
        } catch { /* already closed */ }
      }
      open.clear();
    },
  };
}

/** The stand-in S3 serves `/bucket/<hanging id>` with a hanging body, the rest as stored. */
function serveHanging(rig: StandIns, hanging: ReturnType<typeof hangingBodies>, size: number) {
  const id = rig.service.addAttachment(size);
  rig.s3.script = (request) =>
    new URL(request.url).pathname === `/bucket/${id}`
      ? new Response(hanging.body(), {
        headers: { "content-type": "application/pdf", "content-length": String(size) },
      })
      : undefined;
  return id;
}

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: every spelling of the token that authenticates is counted; the rest never reach the service`, async () => {
    const rig = await startStandIns(runtime, { MAX_REQUESTS_PER_TOKEN: "2" });
    const release = rig.service.hold();
    try {
      const { token, worker } = rig;
      const url = `${worker.url}/attachments/held.pdf`;
      const body = new Uint8Array(1000).fill(3);
      const pdf = { "Content-Type": "application/pdf" };
      // Spellings that are the token, and must all count against it.
      const counted: Record<string, string>[] = [
        { "X-Amz-Bearer": token },
        { Authorization: `Bearer ${token}` },
        { Authorization: `bearer ${token}` },
        { Authorization: `BEARER\t${token}` },
        { Authorization: `Bearer  ${token}` },
        { "X-Amz-Bearer": ` ${token}\t` },
      ];
      const viaFetch = counted.map((headers) =>
        fetch(url, { method: "PUT", headers: { ...headers, ...pdf }, body })
          .then(async (r) => ({ status: r.status, code: (await r.json()).code as string }))
      );
      // Spellings that are not a token: odd separators sent as raw bytes (UTF-8), a latin-1
      // no-break space, vertical tab and form feed, and a token with a space inside.
      const odd = ["\u3000", "\u2003", "\ufeff", "\u2028", "\u00a0", "\x0b", "\x0c"];
      const raw = await Promise.all(
        [...odd.map((sep) => `Bearer${sep}${token}`), `Bearer ${token} x`].map(async (auth) => {
          const exchange = await openRaw(url, {
            Authorization: auth,
            "Content-Type": "application/pdf",
            "Content-Length": String(body.length),
          });
          await exchange.write(body).catch(() => {});
          return exchange;
        }),
      );
      const latin1 = fetch(url, {
        method: "PUT",
        headers: { Authorization: `Bearer\u00a0${token}`, ...pdf },
        body,
      }).then(async (r) => ({ status: r.status, code: (await r.json()).code as string }));

      // Everything but the two admitted uploads is answered while those two are held.
      const refusedRaw = await Promise.all(raw.map((r) => r.answer));
      for (const answer of refusedRaw) {
        assert.ok(answer.status === 401 || answer.status === 400, `${answer.status}`);
        if (answer.status === 401) assert.match(answer.text, /"code":"missing_token"/);
      }
      assert.equal((await latin1).status, 401);
      await eventually(() => rig.service.calls.StartAttachmentUpload === 2);
      release();
      const answers = await Promise.all(viaFetch);
      const statuses = answers.map((a) => a.status).sort();
      assert.deepEqual(statuses, [201, 201, 429, 429, 429, 429], JSON.stringify(answers));
      for (const a of answers.filter((a) => a.status === 429)) {
        assert.equal(a.code, "too_many_requests");
      }
      assert.equal(rig.service.calls.StartAttachmentUpload, 2, "only the admitted two");
      assert.equal(rig.service.peak.StartAttachmentUpload, 2);
      for (const r of raw) r.close();
    } finally {
      release();
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a download keeps its slot until its body is read or cancelled`, async () => {
    const rig = await startStandIns(runtime, { MAX_REQUESTS_PER_TOKEN: "2" });
    const hanging = hangingBodies("trickling");
    try {
      const { token, worker, s3, service } = rig;
      const get = (id: string) =>
        fetch(`${worker.url}/attachments/${id}`, { headers: { "X-Amz-Bearer": token } });
      const slow = serveHanging(rig, hanging, 10_000_000);

      const first = await openRaw(
        `${worker.url}/attachments/${slow}`,
        { "X-Amz-Bearer": token },
        "GET",
      );
      await eventually(() => hanging.opened === 1);
      const second = await get(slow);
      assert.equal(second.status, 200);
      const third = await get(slow);
      assert.equal(third.status, 429, "two bodies still stream: the token has no slot left");
      assert.equal((await third.json()).code, "too_many_requests");

      // A body read to its end frees its slot: two whole downloads one after the other.
      const whole = service.addAttachment(300_000);
      s3.objects.set(`/bucket/${whole}`, {
        bytes: new Uint8Array(300_000).fill(9),
        headers: new Headers({ "content-type": "application/pdf" }),
      });
      // The first client goes away (its connection closed) without reading.
      first.close();
      for (let i = 0; i < 2; i++) {
        let answer!: Response;
        await eventually(async () => {
          answer = await get(whole);
          if (answer.status === 200) return true;
          await answer.body?.cancel();
          return false;
        });
        assert.equal((await answer.arrayBuffer()).byteLength, 300_000);
      }
      // The cancelled body also cancelled its S3 body: no connection is kept for it.
      await eventually(() => hanging.cancelled >= 1);
      await second.body!.cancel();
      await eventually(() => hanging.cancelled >= 2);
    } finally {
      hanging.release();
      await rig.close();
    }
  });

  Deno.test(`${runtime}: a download that outlasts DOWNLOAD_TIMEOUT_MS is cut, its S3 body cancelled and its slot freed`, async () => {
    const rig = await startStandIns(runtime, {
      MAX_REQUESTS_PER_TOKEN: "1",
      DOWNLOAD_TIMEOUT_MS: "3000",
    });
    const hanging = hangingBodies("stalled");
    let answerS3 = () => {};
    try {
      const { token, worker, s3, service } = rig;
      const get = (id: string) =>
        fetch(`${worker.url}/attachments/${id}`, { headers: { "X-Amz-Bearer": token } });
      const slow = serveHanging(rig, hanging, 1_000_000);
      const started = Date.now();
      const cut = await get(slow);
      assert.equal(cut.status, 200);
      // The generous bound catches "never", not speed.
      const read = await Promise.race([
        cut.arrayBuffer().then(() => "ended", () => "cut"),
        new Promise((r) => setTimeout(() => r("still open after 20 s"), 20_000)),
      ]);
      assert.equal(read, "cut");
      assert.ok(Date.now() - started >= 2500, "not before the deadline");
      await eventually(() => hanging.cancelled === 1);

      // The slot is free again (limit 1): a whole download goes through.
      const whole = service.addAttachment(1000);
      s3.objects.set(`/bucket/${whole}`, { bytes: new Uint8Array(1000), headers: new Headers() });
      // Read to the end: the slot is freed when the body is through, a moment after its last byte.
      await eventually(async () => {
        const answer = await get(whole);
        const bytes = await answer.arrayBuffer();
        return answer.status === 200 && bytes.byteLength === 1000;
      });

      // S3 that never answers the GET: a 502 at the deadline.
      const silent = service.addAttachment(1000);
      const stall = new Promise<void>((resolve) => (answerS3 = resolve));
      s3.script = async (request) => {
        if (new URL(request.url).pathname !== `/bucket/${silent}`) return undefined;
        await stall;
        return new Response("late");
      };
      let late = await get(silent);
      // The whole download's slot may still be on its way back (limit 1): ask again until it is.
      await eventually(async () => {
        if (late.status !== 429) return true;
        await late.body?.cancel();
        late = await get(silent);
        return false;
      });
      const problem = await late.json();
      assert.equal(late.status, 502);
      assert.equal(problem.code, "download_failed");
      assert.match(problem.detail, /did not answer within 3000 ms/);
    } finally {
      answerS3();
      hanging.release();
      await rig.close();
    }
  });
}

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: an upload whose client goes away while the service answers gives its slot back`, async () => {
    const rig = await startStandIns(runtime, { MAX_REQUESTS_PER_TOKEN: "1" });
    const release = rig.service.hold();
    try {
      const { token, worker } = rig;
      const body = new Uint8Array(1000).fill(5);
      const gone = await openRaw(`${worker.url}/attachments/gone.pdf`, {
        "X-Amz-Bearer": token,
        "Content-Type": "application/pdf",
        "Content-Length": String(body.length),
      });
      await gone.write(body);
      await eventually(() => rig.service.calls.StartAttachmentUpload === 1);
      gone.close();
      await new Promise((r) => setTimeout(r, 200));
      release();
      await eventually(async () => {
        const answer = await fetch(`${worker.url}/attachments/next.pdf`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": token, "Content-Type": "application/pdf" },
          body,
        });
        await answer.body?.cancel();
        return answer.status === 201;
      });
    } finally {
      release();
      await rig.close();
    }
  });
}
