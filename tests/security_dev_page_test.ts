/**
 * One rule for the development page in both runtimes: the production builds (the Workers
 * bundle and `worker/deno.ts`) do not carry it, so `DEV_PAGE=true` makes `/` answer
 * `500 misconfigured` and serves no page script; only the development builds serve it.
 */

import assert from "node:assert/strict";
import { startWorker, type WorkerRuntime } from "../testing/worker.ts";

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: the production build refuses DEV_PAGE=true with 500 misconfigured`, async () => {
    const worker = await startWorker({
      runtime,
      build: "production",
      participantUrl: "http://127.0.0.1:9",
      uploadHosts: ["127.0.0.1:9"],
      vars: { DEV_PAGE: "true" },
    });
    try {
      const page = await fetch(`${worker.url}/`);
      const problem = await page.json();
      assert.equal(page.status, 500);
      assert.equal(problem.code, "misconfigured");
      assert.match(problem.detail, /production build/);
      for (const path of ["/dev/page.js", "/dev/browser.js", "/dev/config.json"]) {
        const script = await fetch(`${worker.url}${path}`);
        assert.equal(script.status, 404, path);
        await script.body?.cancel();
      }
      assert.equal((await (await fetch(`${worker.url}/healthz`)).json()).status, "ok");
    } finally {
      await worker.close();
    }
  });
}
