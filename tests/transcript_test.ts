import assert from "node:assert/strict";
import { withChat } from "./_rig.ts";
import { AttachmentError, listAttachments, uploadAttachment } from "../src/mod.ts";

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
