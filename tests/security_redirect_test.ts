/**
 * Pre-signed URLs are never followed on a redirect: an allowed S3 host that answers the
 * upload's `PUT` or the download's `GET` with 301, 302, 303, 307 or 308 and a `Location` on
 * another host gets a 502 naming that status; nothing is completed, and the other host (which
 * would answer 200) sees no connection at all. In the worker (workerd and Deno) and in the
 * Deno library (`fetch` and `node:http` uploads, downloads). URLs that point off the allow
 * list straight away are refused without a connection too.
 */

import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { downloadAttachment } from "../src/_library/download.ts";
import { AttachmentError } from "../src/_core/errors.ts";
import { sendAttachment } from "../src/_core/send.ts";
import { createNodePut } from "../src/_library/put_node.ts";
import {
  startForeignHost,
  startStandIns,
  startStandInS3,
  startStandInService,
} from "./_standin.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

const REDIRECTS = [301, 302, 303, 307, 308];

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: an S3 redirect of the upload or the download is a 502 with its status; nothing completed; the other host never contacted`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { s3, service, foreign, worker, token } = rig;
      let status = 0;
      s3.script = () =>
        new Response(null, { status, headers: { location: `${foreign.url}/elsewhere` } });
      for (status of REDIRECTS) {
        const upload = await fetch(`${worker.url}/attachments/moved-${status}.pdf`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": token, "Content-Type": "application/pdf" },
          body: new Uint8Array(20_000).fill(7),
        });
        const problem = await upload.json();
        assert.equal(upload.status, 502, `${status}: ${JSON.stringify(problem)}`);
        assert.equal(problem.code, "upload_failed");
        assert.equal(problem.upstream.service, "s3");
        assert.equal(problem.upstream.status, status);
        assert.match(problem.detail, new RegExp(`redirect \\(HTTP ${status}\\)`));
        assert.ok(problem.attachmentId, "the attachment that was started is named");

        const id = service.addAttachment(100);
        const download = await fetch(`${worker.url}/attachments/${id}`, {
          headers: { "X-Amz-Bearer": token },
        });
        const refused = await download.json();
        assert.equal(download.status, 502, `${status}: ${JSON.stringify(refused)}`);
        assert.equal(refused.code, "download_failed");
        assert.equal(refused.upstream.status, status);
      }
      // URLs that point at the other host straight away are refused without a connection.
      service.urlBase = foreign.url;
      const offList = await fetch(`${worker.url}/attachments/off-list.pdf`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token, "Content-Type": "application/pdf" },
        body: new Uint8Array(1000),
      });
      assert.equal(offList.status, 502);
      assert.equal((await offList.json()).code, "upload_host_not_allowed");
      const offListGet = await fetch(`${worker.url}/attachments/${service.addAttachment(10)}`, {
        headers: { "X-Amz-Bearer": token },
      });
      assert.equal(offListGet.status, 502);
      assert.equal((await offListGet.json()).code, "download_host_not_allowed");
      assert.equal(service.calls.CompleteAttachmentUpload, 0, "nothing was completed");
      assert.equal(s3.requests.filter((r) => r.method === "PUT").length, REDIRECTS.length);
      assert.equal(s3.requests.filter((r) => r.method === "GET").length, REDIRECTS.length);
      assert.equal(foreign.connections, 0, "the other host saw no connection");
    } finally {
      await rig.close();
    }
  });
}

Deno.test("Deno library: fetch and node:http uploads and downloads follow no S3 redirect", async () => {
  const s3 = startStandInS3();
  const service = startStandInService(s3);
  const foreign = startForeignHost();
  try {
    const token = service.newToken();
    const client = createParticipantClient({ endpoint: service.url, retry: false });
    let status = 0;
    s3.script = () =>
      new Response("moved", { status, headers: { location: `${foreign.url}/elsewhere` } });
    for (status of REDIRECTS) {
      for (const put of [undefined, createNodePut()]) {
        const bytes = new Uint8Array(5000).fill(1);
        const failure = await sendAttachment({
          client,
          connectionToken: token,
          name: "a.pdf",
          contentType: "application/pdf",
          size: bytes.length,
          body: put ? ReadableStream.from([bytes]) : bytes,
          isUploadUrlAllowed: (url) => url.host === s3.host,
          put,
        }).then(() => undefined, (error) => error);
        assert.ok(failure instanceof AttachmentError, `${status}: ${failure}`);
        assert.equal(failure.code, "upload_failed");
        assert.equal(failure.upstream?.service, "s3");
        assert.equal(failure.upstream?.status, status);
        assert.match(failure.message, /redirect/);
      }
      const id = service.addAttachment(10);
      const download = await downloadAttachment({
        endpoint: service.url,
        connectionToken: token,
        attachmentId: id,
        isDownloadUrlAllowed: (url) => url.host === s3.host,
      }).then(() => undefined, (error) => error);
      assert.ok(download instanceof AttachmentError, `${status}: ${download}`);
      assert.equal(download.code, "download_failed");
      assert.equal(download.upstream?.status, status);
      assert.match(download.message, new RegExp(`redirect \\(HTTP ${status}\\)`));
    }
    assert.equal(service.calls.CompleteAttachmentUpload, 0);
    assert.equal(foreign.connections, 0, "the other host saw no connection");
  } finally {
    await s3.close();
    await service.close();
    await foreign.close();
  }
});
