import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { AttachmentError, connect, createParticipantClient } from "../src/mod.ts";
import { startChat } from "../src/browser.ts";
import { serveTiny } from "./_http.ts";

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

Deno.test("an answer without a ConnectionToken is service_unavailable, from the library and the browser client alike", async () => {
  // A service that starts chats and connects participants, but hands out no ConnectionToken.
  const service = serveTiny((request) =>
    new URL(request.url).pathname === "/contact/chat"
      ? Response.json({ ContactId: "c-1", ParticipantId: "p-1", ParticipantToken: "pt-1" })
      : Response.json({ ConnectionCredentials: { Expiry: "2030-01-01T00:00:00Z" } })
  );
  try {
    const failures = [
      await connect({ endpoint: service.url, participantToken: "pt-1" }).catch((e) => e),
      await startChat(service.url).catch((e) => e),
    ];
    for (const failure of failures) {
      assert.ok(failure instanceof AttachmentError, String(failure));
      assert.equal(failure.code, "service_unavailable");
      assert.equal(failure.stage, "connect");
      assert.equal(
        failure.message,
        "CreateParticipantConnection answered without a ConnectionToken",
      );
    }
    assert.equal(service.requests, 3, "one connection call each, and the chat the browser started");
  } finally {
    await service.close();
  }
});
