import assert from "node:assert/strict";
import { withChat } from "./_rig.ts";
import { AttachmentError, downloadAttachment, uploadAttachment } from "../src/mod.ts";
import { randomBytes, sha256 } from "../testing/data.ts";

Deno.test("downloadAttachment streams the bytes with their size, name and type, and counts progress", async () => {
  await withChat(async ({ endpoint, token: connectionToken }) => {
    const bytes = randomBytes(180_000, 41);
    const sent = await uploadAttachment({
      endpoint,
      connectionToken,
      file: bytes,
      name: "Quartalsbericht „Q3“.xlsx",
    });
    const progress: number[] = [];
    const download = await downloadAttachment({
      endpoint,
      connectionToken,
      attachmentId: sent.attachmentId,
      onProgress: ({ loaded }) => progress.push(loaded),
    });
    assert.equal(download.size, bytes.length);
    assert.equal(download.name, "Quartalsbericht „Q3“.xlsx");
    assert.equal(
      download.contentType,
      "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    );
    assert.equal(progress.length, 1, "nothing is read before the body is");
    const got = await new Response(download.body).arrayBuffer();
    assert.equal(await sha256(got), await sha256(bytes));
    assert.equal(progress.at(-1), bytes.length);
  });
});

Deno.test("downloadAttachment: an unknown id is the service's ValidationException; a bad token its 403", async () => {
  await withChat(async ({ endpoint, token: connectionToken }) => {
    const unknown = await downloadAttachment({ endpoint, connectionToken, attachmentId: "nope" })
      .catch((e) => e);
    assert.ok(unknown instanceof AttachmentError);
    assert.equal(unknown.code, "attachment_not_found");
    assert.equal(unknown.upstream?.name, "ValidationException");
    const denied = await downloadAttachment({
      endpoint,
      connectionToken: "not-a-token",
      attachmentId: "nope",
    }).catch((e) => e);
    assert.equal(denied.code, "access_denied");
    assert.equal(denied.upstream?.name, "AccessDeniedException");
  });
});

Deno.test("downloadAttachment fetches only allowed URLs: a stricter rule refuses the local http one", async () => {
  await withChat(async ({ endpoint, token: connectionToken }) => {
    const sent = await uploadAttachment({
      endpoint,
      connectionToken,
      file: new Uint8Array(3),
      name: "a.txt",
    });
    const error = await downloadAttachment({
      endpoint,
      connectionToken,
      attachmentId: sent.attachmentId,
      isDownloadUrlAllowed: (url) => url.protocol === "https:",
    }).catch((e) => e);
    assert.ok(error instanceof AttachmentError);
    assert.equal(error.code, "download_host_not_allowed");
    assert.equal(error.stage, "download");
    assert.match(error.message, /not an allowed host/);
  });
});
