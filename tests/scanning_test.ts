/**
 * Attachment scanning on the local service: off by default (APPROVED at once); on, every
 * completed attachment is IN_PROGRESS until the verdict, an EICAR file ends REJECTED and its
 * S3 object is deleted, a clean file ends APPROVED, both verdicts reach the customer and the
 * agent over the websocket, and GetAttachment refuses what is not approved.
 */
import assert from "node:assert/strict";
import { headObject } from "../local/presign.ts";
import { startLocalStack } from "../local/stack.ts";
import {
  connectParticipant,
  type Item,
  joinAsAgent,
  openChatSocket,
  sendFile,
  startChatContact,
} from "./_chat_socket.ts";
import { EICAR, randomBytes } from "../testing/data.ts";

async function customerChat(participantUrl: string) {
  const chat = await startChatContact(participantUrl, "scan-instance");
  const connection = await connectParticipant(participantUrl, chat.ParticipantToken);
  return { contactId: chat.ContactId, ...connection };
}

async function getAttachment(participantUrl: string, token: string, id: string) {
  const response = await fetch(`${participantUrl}/participant/attachment`, {
    method: "POST",
    headers: { "x-amz-bearer": token },
    body: JSON.stringify({ AttachmentId: id }),
  });
  const body = await response.json();
  return { status: response.status, type: response.headers.get("x-amzn-errortype"), body };
}

const statusOf = (id: string) => (i: Item) => i.Attachments?.[0]?.AttachmentId === id;

Deno.test("scanning is off by default: a completed attachment is APPROVED at once", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const chat = await customerChat(stack.participantUrl);
    const socket = await openChatSocket(chat.websocketUrl);
    const id = await sendFile(stack.participantUrl, chat.connectionToken, {
      name: "eicar.txt",
      type: "text/plain",
      bytes: new TextEncoder().encode(EICAR),
    });
    const item = await socket.waitFor(statusOf(id));
    assert.equal(item.Attachments![0].Status, "APPROVED");
    assert.equal((await getAttachment(stack.participantUrl, chat.connectionToken, id)).status, 200);
    await socket.close();
  } finally {
    await stack.close();
  }
});

Deno.test("scanning on: IN_PROGRESS, then REJECTED and deleted for EICAR, APPROVED otherwise", async () => {
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    scanning: { delayMs: 1_500 },
  });
  const url = stack.participantUrl;
  try {
    const customer = await customerChat(url);
    const customerSocket = await openChatSocket(customer.websocketUrl);
    const agentJoin = await joinAsAgent(url, customer.contactId);
    const agent = await connectParticipant(url, agentJoin.participantToken);
    const agentSocket = await openChatSocket(agent.websocketUrl);

    const clean = randomBytes(50_000, 8);
    // The test string in the middle of a larger file, across the reader's chunks.
    const infected = new Uint8Array(200_000);
    infected.set(new TextEncoder().encode(EICAR), 65_530);
    const cleanId = await sendFile(url, customer.connectionToken, {
      name: "statement.pdf",
      type: "application/pdf",
      bytes: clean,
    });
    const infectedId = await sendFile(url, customer.connectionToken, {
      name: "invoice.pdf",
      type: "application/pdf",
      bytes: infected,
    });
    const keyOf = (id: string) =>
      stack.service.store.chats.get(customer.contactId)!.attachments.get(id)!.key;
    const s3 = stack.service.s3;

    // While the scan runs: IN_PROGRESS everywhere, and GetAttachment refuses.
    for (const socket of [customerSocket, agentSocket]) {
      for (const id of [cleanId, infectedId]) {
        const first = await socket.waitFor(statusOf(id));
        assert.equal(first.Attachments![0].Status, "IN_PROGRESS");
      }
    }
    const pending = await getAttachment(url, customer.connectionToken, cleanId);
    assert.equal(pending.status, 400);
    assert.equal(pending.type, "ValidationException");
    assert.match(pending.body.Message, /being scanned/);
    const transcript = await fetch(`${url}/participant/transcript`, {
      method: "POST",
      headers: { "x-amz-bearer": customer.connectionToken },
      body: JSON.stringify({ MaxResults: 100 }),
    }).then((r) => r.json());
    const listed = transcript.Transcript.filter((i: Item) => i.Type === "ATTACHMENT");
    assert.deepEqual(listed.map((i: Item) => i.Attachments![0].Status), [
      "IN_PROGRESS",
      "IN_PROGRESS",
    ]);
    assert.equal((await headObject(s3, keyOf(infectedId)))?.size, 200_000);

    // The verdicts arrive over both websockets, as updates of the same items.
    for (const socket of [customerSocket, agentSocket]) {
      const approved = await socket.waitFor((i) =>
        statusOf(cleanId)(i) && i.Attachments![0].Status === "APPROVED"
      );
      const rejected = await socket.waitFor((i) =>
        statusOf(infectedId)(i) && i.Attachments![0].Status === "REJECTED"
      );
      const firstIds = socket.items().filter((i) => i.Type === "ATTACHMENT").map((i) => i.Id);
      assert.ok(firstIds.includes(approved.Id) && firstIds.includes(rejected.Id));
      assert.equal(new Set(firstIds).size, 2, "each verdict updates its item (same Id)");
      assert.equal(rejected.Attachments![0].AttachmentName, "invoice.pdf");
    }

    // REJECTED: the S3 object is gone, GetAttachment refuses; APPROVED: it downloads.
    assert.equal(await headObject(s3, keyOf(infectedId)), undefined);
    const rejected = await getAttachment(url, agent.connectionToken, infectedId);
    assert.equal(rejected.status, 400);
    assert.equal(rejected.type, "ValidationException");
    assert.match(rejected.body.Message, /REJECTED/);
    const approved = await getAttachment(url, agent.connectionToken, cleanId);
    assert.equal(approved.status, 200);
    const bytes = new Uint8Array(await (await fetch(approved.body.Url)).arrayBuffer());
    assert.deepEqual(bytes, clean);

    const after = await fetch(`${url}/participant/transcript`, {
      method: "POST",
      headers: { "x-amz-bearer": customer.connectionToken },
      body: JSON.stringify({ MaxResults: 100, SortOrder: "ASCENDING" }),
    }).then((r) => r.json());
    assert.deepEqual(
      after.Transcript.filter((i: Item) => i.Type === "ATTACHMENT").map((
        i: Item,
      ) => [i.Attachments![0].AttachmentName, i.Attachments![0].Status]),
      [["statement.pdf", "APPROVED"], ["invoice.pdf", "REJECTED"]],
    );
    await customerSocket.close();
    await agentSocket.close();
  } finally {
    await stack.close();
  }
});
