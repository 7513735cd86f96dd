import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { AttachmentError, connect, createParticipantClient } from "../src/mod.ts";

Deno.test("connect trades a ParticipantToken for a working ConnectionToken; a bad token is a 403 error", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const chat = await openChat(client);
    const connection = await connect({
      endpoint: stack.participantUrl,
      participantToken: chat.participantToken,
    });
    assert.equal(connection.connectionToken, chat.connectionToken);
    assert.ok(connection.expiry && Date.parse(connection.expiry) > Date.now());
    const transcript = await client.getTranscript(connection.connectionToken);
    assert.equal(transcript.error, undefined);

    const error = await connect({ client, participantToken: "not-a-token" }).catch((e) => e);
    assert.ok(error instanceof AttachmentError);
    assert.equal(error.code, "access_denied");
    assert.equal(error.stage, "connect");
    assert.equal(error.upstream?.service, "participant");
    assert.equal(error.upstream?.name, "AccessDeniedException");
    assert.equal(error.upstream?.status, 403);
    assert.ok(!error.message.includes("not-a-token"));
  } finally {
    await stack.close();
  }
});
