/**
 * A download is always a download, whatever the stored object claims: `attachment` with a
 * safe name (or none), a type among the accepted ones or `application/octet-stream`,
 * `Content-Security-Policy: sandbox` and `nosniff`, the bytes and their length intact. The
 * stand-in S3 serves objects with hostile headers; the worker runs in workerd and in Deno.
 */

import assert from "node:assert/strict";
import { startStandIns } from "./_standin.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

/** What S3 sends, and what the worker must answer with. */
const CASES: {
  s3: { type?: string; disposition?: string };
  type: string;
  disposition: string;
}[] = [
  {
    s3: { type: "text/html", disposition: 'inline; filename="page.html"' },
    type: "application/octet-stream",
    disposition: 'attachment; filename="page.html"',
  },
  {
    s3: { type: "image/svg+xml", disposition: "inline" },
    type: "application/octet-stream",
    disposition: "attachment",
  },
  {
    s3: { type: "application/pdf", disposition: 'attachment; filename="report.pdf"' },
    type: "application/pdf",
    disposition: 'attachment; filename="report.pdf"',
  },
  {
    s3: { type: "Text/Plain; charset=utf-8" },
    type: "text/plain",
    disposition: "attachment",
  },
  {
    s3: { disposition: "attachment; filename*=UTF-8''%C3%A9t%C3%A9%20100%25.pdf" },
    type: "application/octet-stream",
    disposition: `attachment; filename="_t_ 100_.pdf"; filename*=UTF-8''%C3%A9t%C3%A9%20100%25.pdf`,
  },
  {
    // A stored name with CR/LF, one with a right-to-left override, one with a path: dropped.
    s3: { type: "image/png", disposition: "attachment; filename*=UTF-8''a%0D%0Ab.png" },
    type: "image/png",
    disposition: "attachment",
  },
  {
    s3: { disposition: "attachment; filename*=UTF-8''invoice%E2%80%AEfdp.exe" },
    type: "application/octet-stream",
    disposition: "attachment",
  },
  {
    s3: { disposition: 'attachment; filename="../../etc/passwd"' },
    type: "application/octet-stream",
    disposition: "attachment",
  },
];

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: downloads are attachments with a safe name and type, sandboxed, nosniff`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { token, worker, service, s3 } = rig;
      for (const [i, c] of CASES.entries()) {
        const bytes = new Uint8Array(70_000 + i).fill(i + 1);
        const id = service.addAttachment(bytes.length);
        const headers = new Headers();
        if (c.s3.type) headers.set("content-type", c.s3.type);
        if (c.s3.disposition) headers.set("content-disposition", c.s3.disposition);
        s3.objects.set(`/bucket/${id}`, { bytes, headers });
        const answer = await fetch(`${worker.url}/attachments/${id}`, {
          // workerd compresses text for clients that take it, as Cloudflare's edge does.
          headers: { "X-Amz-Bearer": token, "Accept-Encoding": "identity" },
        });
        const what = JSON.stringify(c.s3);
        assert.equal(answer.status, 200, what);
        assert.equal(answer.headers.get("content-type"), c.type, what);
        assert.equal(answer.headers.get("content-disposition"), c.disposition, what);
        assert.equal(answer.headers.get("content-security-policy"), "sandbox", what);
        assert.equal(answer.headers.get("x-content-type-options"), "nosniff", what);
        assert.equal(answer.headers.get("content-length"), String(bytes.length), what);
        assert.deepEqual(new Uint8Array(await answer.arrayBuffer()), bytes, what);
      }
    } finally {
      await rig.close();
    }
  });
}
