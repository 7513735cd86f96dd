/**
 * The participant websocket of the local service: the protocol amazon-connect-chatjs speaks
 * (subscribe, heartbeat, ping), every transcript item pushed to every participant of the chat
 * as it happens (customer and an agent who joined through the development endpoint), sockets
 * closed on disconnect and at the end of the chat, and URLs that expire as the real ones do.
 */
import assert from "node:assert/strict";
import { startLocalStack } from "../local/stack.ts";
import {
  connectParticipant,
  joinAsAgent,
  openChatSocket,
  sendFile,
  startChatContact,
} from "./_chat_socket.ts";
import { randomBytes } from "../testing/data.ts";

async function message(participantUrl: string, token: string, text: string) {
  const response = await fetch(`${participantUrl}/participant/message`, {
    method: "POST",
    headers: { "x-amz-bearer": token },
    body: JSON.stringify({ ContentType: "text/plain", Content: text }),
  });
  return await response.json() as { Id: string };
}

async function disconnect(participantUrl: string, token: string) {
  const response = await fetch(`${participantUrl}/participant/disconnect`, {
    method: "POST",
    headers: { "x-amz-bearer": token },
    body: "{}",
  });
  assert.equal(response.status, 200, await response.text());
}

Deno.test("the participant websocket", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const url = stack.participantUrl;
  try {
    await t.step(
      "CreateParticipantConnection hands out a ws://127.0.0.1 URL valid for 100 s",
      async () => {
        const chat = await startChatContact(url, "ws-instance", "Customer Cy");
        const before = Date.now();
        const connection = await connectParticipant(url, chat.ParticipantToken);
        // chatjs accepts only ^wss:// or ^ws://127.0.0.1:
        assert.match(connection.websocketUrl, /^ws:\/\/127\.0\.0\.1:\d+\//);
        const lifetime = Date.parse(connection.websocketExpiry) - before;
        assert.ok(lifetime > 99_000 && lifetime <= 100_500, `URL lifetime ${lifetime} ms`);
        assert.ok(!connection.websocketUrl.includes(connection.connectionToken));
      },
    );

    await t.step("subscribe, heartbeat and ping are answered as chatjs expects", async () => {
      const chat = await startChatContact(url, "ws-instance", "Customer Cy");
      const { websocketUrl } = await connectParticipant(url, chat.ParticipantToken);
      const socket = await openChatSocket(websocketUrl);
      socket.send({ topic: "aws/heartbeat" });
      socket.send({ topic: "aws/ping" });
      socket.send({ topic: "aws/subscribe", content: { topics: ["aws/presence"] } });
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(socket.frames, [
        { topic: "aws/subscribe", content: { status: "success", topics: ["aws/chat"] } },
        { topic: "aws/heartbeat" },
        { topic: "aws/ping", statusCode: 200 },
        { topic: "aws/subscribe", content: { status: "failure", topics: ["aws/presence"] } },
      ]);
      await socket.close();
    });

    await t.step("nothing is pushed to a socket before it subscribes", async () => {
      const chat = await startChatContact(url, "ws-instance", "Customer Cy");
      const connection = await connectParticipant(url, chat.ParticipantToken);
      const raw = new WebSocket(connection.websocketUrl);
      const frames: string[] = [];
      raw.onmessage = (e) => frames.push(String(e.data));
      await new Promise((r) => (raw.onopen = r));
      await message(url, connection.connectionToken, "unheard");
      await new Promise((r) => setTimeout(r, 200));
      assert.deepEqual(frames, []);
      const closed = new Promise((r) => (raw.onclose = r));
      raw.close();
      await closed;
    });

    await t.step("every item reaches every participant: customer and agent", async () => {
      const chat = await startChatContact(url, "ws-instance", "Customer Cy");
      const customer = await connectParticipant(url, chat.ParticipantToken);
      const customerSocket = await openChatSocket(customer.websocketUrl);

      const agentJoin = await joinAsAgent(url, chat.ContactId);
      const joined = await customerSocket.waitFor((i) => i.Type === "PARTICIPANT_JOINED");
      assert.equal(joined.ParticipantRole, "AGENT");
      assert.equal(joined.ParticipantId, agentJoin.participantId);
      assert.equal(joined.ContactId, chat.ContactId);
      const agent = await connectParticipant(url, agentJoin.participantToken);
      const agentSocket = await openChatSocket(agent.websocketUrl);

      const sent = await message(url, customer.connectionToken, "hello agent");
      for (const socket of [customerSocket, agentSocket]) {
        const item = await socket.waitFor((i) => i.Id === sent.Id);
        assert.equal(item.Content, "hello agent");
        assert.equal(item.ParticipantRole, "CUSTOMER");
      }

      const bytes = randomBytes(2_000, 4);
      const fromCustomer = await sendFile(url, customer.connectionToken, {
        name: "invoice.pdf",
        type: "application/pdf",
        bytes,
      });
      const fromAgent = await sendFile(url, agent.connectionToken, {
        name: "reply.txt",
        type: "text/plain",
        bytes: new TextEncoder().encode("see attached\n"),
      });
      for (const socket of [customerSocket, agentSocket]) {
        const a = await socket.waitFor((i) => i.Attachments?.[0]?.AttachmentId === fromCustomer);
        assert.equal(a.Type, "ATTACHMENT");
        assert.equal(a.ContentType, "application/vnd.amazonaws.connect.message.attachment");
        assert.deepEqual(a.Attachments, [{
          ContentType: "application/pdf",
          AttachmentId: fromCustomer,
          AttachmentName: "invoice.pdf",
          Status: "APPROVED",
        }]);
        const b = await socket.waitFor((i) => i.Attachments?.[0]?.AttachmentId === fromAgent);
        assert.equal(b.ParticipantRole, "AGENT");
        assert.equal(b.Attachments![0].AttachmentName, "reply.txt");
      }
      // The pushed items are the transcript's, in the same order.
      const transcript = await fetch(`${url}/participant/transcript`, {
        method: "POST",
        headers: { "x-amz-bearer": agent.connectionToken },
        body: JSON.stringify({ MaxResults: 100, SortOrder: "ASCENDING" }),
      }).then((r) => r.json());
      const agentJoinedAt = transcript.Transcript.findIndex((i: { ParticipantId: string }) =>
        i.ParticipantId === agentJoin.participantId
      );
      assert.deepEqual(
        transcript.Transcript.slice(agentJoinedAt + 1),
        agentSocket.items(),
        "the agent's socket got every item after it connected, as stored",
      );

      // The agent leaves: both hear it; only the agent's socket closes.
      await disconnect(url, agent.connectionToken);
      for (const socket of [customerSocket, agentSocket]) {
        await socket.waitFor((i) => i.Type === "PARTICIPANT_LEFT" && i.ParticipantRole === "AGENT");
      }
      assert.equal(await agentSocket.closed, 1000);
      const after = await message(url, customer.connectionToken, "still here");
      await customerSocket.waitFor((i) => i.Id === after.Id);

      // The customer leaves: the chat ends, and its sockets close.
      await disconnect(url, customer.connectionToken);
      await customerSocket.waitFor((i) =>
        i.ContentType === "application/vnd.amazonaws.connect.event.chat.ended"
      );
      assert.equal(await customerSocket.closed, 1000);
    });

    await t.step("a URL is refused once its participant disconnected", async () => {
      const chat = await startChatContact(url, "ws-instance", "Customer Cy");
      const connection = await connectParticipant(url, chat.ParticipantToken);
      await disconnect(url, connection.connectionToken);
      await assert.rejects(openChatSocket(connection.websocketUrl));
      const handshake = await fetch(connection.websocketUrl.replace(/^ws:/, "http:"), {
        headers: { upgrade: "websocket" },
      });
      assert.equal(handshake.status, 403);
      await handshake.body?.cancel();
    });

    await t.step("an unknown URL is refused", async () => {
      const chat = await startChatContact(url, "ws-instance", "Customer Cy");
      const { websocketUrl } = await connectParticipant(url, chat.ParticipantToken);
      const forged = new URL(websocketUrl);
      forged.searchParams.set("ticket", "forged");
      await assert.rejects(openChatSocket(forged.href));
    });
  } finally {
    await stack.close();
  }
});

Deno.test("a websocket URL is refused after its expiry", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, websocketUrlTtlSeconds: 1 });
  try {
    const chat = await startChatContact(stack.participantUrl, "ws-instance", "Customer Cy");
    const connection = await connectParticipant(stack.participantUrl, chat.ParticipantToken);
    const early = await openChatSocket(connection.websocketUrl);
    await new Promise((r) => setTimeout(r, 1_200));
    await assert.rejects(openChatSocket(connection.websocketUrl));
    // A socket opened in time stays open; a fresh URL connects again.
    assert.equal(early.frames.length, 1);
    const fresh = await connectParticipant(stack.participantUrl, chat.ParticipantToken);
    const again = await openChatSocket(fresh.websocketUrl);
    await again.close();
    await early.close();
  } finally {
    await stack.close();
  }
});
