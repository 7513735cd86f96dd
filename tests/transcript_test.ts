import assert from "node:assert/strict";
import { withChat } from "./_rig.ts";
import { AttachmentError, listAttachments, uploadAttachment, waitForScan } from "../src/mod.ts";

Deno.test("listAttachments walks every transcript page and returns the attachments oldest first", async () => {
  await withChat(async ({ endpoint, client, token: connectionToken }) => {
    const names: string[] = [];
    // 3 attachments among 230 messages: the transcript spans three 100-item pages.
    for (let i = 0; i < 230; i++) {
      if (i % 100 === 5) {
        const name = `part-${i}.txt`;
        await uploadAttachment({ endpoint, connectionToken, file: new Uint8Array(4), name });
        names.push(name);
      }
      const sent = await client.sendMessage(connectionToken, {
        ContentType: "text/plain",
        Content: `message ${i}`,
      });
      assert.equal(sent.error, undefined);
    }
    const listed = await listAttachments({ client, connectionToken });
    assert.deepEqual(listed.map((a) => a.name), names);
    assert.ok(listed.every((a) => a.status === "APPROVED" && a.participantRole === "CUSTOMER"));
    assert.deepEqual(await listAttachments({ client, connectionToken, maxPages: 1 }), [
      listed[2],
    ]);

    const error = await listAttachments({ client, connectionToken: "bad" }).catch((e) => e);
    assert.ok(error instanceof AttachmentError);
    assert.equal(error.code, "access_denied");
    assert.equal(error.stage, "list");
    assert.equal(error.upstream?.name, "AccessDeniedException");
  });
});

Deno.test("the status read after an upload asks for the 20 newest items; a later lookup reads full pages", async () => {
  await withChat(async ({ endpoint, client, token: connectionToken }) => {
    // A forwarder in front of the local service that notes each GetTranscript's MaxResults.
    const asked: number[] = [];
    const forwarder = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen: () => {} },
      async (req) => {
        const url = new URL(req.url);
        const body = await req.text();
        if (url.pathname === "/participant/transcript") asked.push(JSON.parse(body).MaxResults);
        const headers = new Headers(req.headers);
        headers.delete("host");
        return await fetch(`${endpoint}${url.pathname}${url.search}`, {
          method: req.method,
          headers,
          body: req.method === "GET" ? undefined : body,
        });
      },
    );
    const via = `http://127.0.0.1:${forwarder.addr.port}`;
    const say = async (count: number) => {
      for (let i = 0; i < count; i++) {
        const sent = await client.sendMessage(connectionToken, {
          ContentType: "text/plain",
          Content: `message ${i}`,
        });
        assert.equal(sent.error, undefined);
      }
    };
    try {
      // A long chat: the new attachment is the newest item, so 20 items show it.
      await say(150);
      const sent = await uploadAttachment({
        endpoint: via,
        connectionToken,
        file: new Uint8Array(16),
        name: "late.txt",
      });
      assert.equal(sent.status, "APPROVED");
      assert.deepEqual(asked, [20]);

      // 30 items later it is past the 20 newest: a lookup then reads 100.
      await say(30);
      asked.length = 0;
      const status = await waitForScan({
        endpoint: via,
        connectionToken,
        attachmentId: sent.attachmentId,
        timeoutSeconds: 0,
      });
      assert.equal(status, "APPROVED");
      assert.deepEqual(asked, [100]);
    } finally {
      await forwarder.shutdown();
    }
  });
});
