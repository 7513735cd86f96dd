/**
 * Contract tests of what the participant websocket sends: every frame has the protocol's
 * envelope (as amazon-connect-chatjs reads it), and the content of every `aws/chat` frame is
 * the JSON string of a transcript Item that validates against openapi.yaml's Item schema.
 * The frames are recorded on real sockets of a customer and an agent while a chat goes
 * through every kind of item: joins, messages, a typing event, attachments with each scan
 * status, a departure and the end of the chat.
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { startLocalStack } from "../local/stack.ts";
import {
  type ChatSocket,
  connectParticipant,
  joinAsAgent,
  openChatSocket,
  sendFile,
  startChatContact,
} from "./_chat_socket.ts";
import { EICAR, randomBytes } from "../testing/data.ts";

const SPEC_ID = "https://connect-attachments.invalid/openapi.yaml";
const spec = parse(await Deno.readTextFile(new URL("../openapi.yaml", import.meta.url)));
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addKeyword("components");
ajv.addSchema({ $id: SPEC_ID, components: spec.components });
const validItem = ajv.compile({ $ref: `${SPEC_ID}#/components/schemas/Item` });

/** The envelopes the service may send, as chatjs's websocket manager reads them. */
const validFrame = ajv.compile({
  oneOf: [
    {
      type: "object",
      additionalProperties: false,
      required: ["topic", "content"],
      properties: {
        topic: { enum: ["aws/subscribe", "aws/unsubscribe"] },
        content: {
          type: "object",
          additionalProperties: false,
          required: ["status", "topics"],
          properties: {
            status: { enum: ["success", "failure"] },
            topics: { type: "array", items: { type: "string" } },
          },
        },
      },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["topic"],
      properties: { topic: { const: "aws/heartbeat" } },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["topic", "statusCode"],
      properties: { topic: { const: "aws/ping" }, statusCode: { const: 200 } },
    },
    {
      type: "object",
      additionalProperties: false,
      required: ["topic", "content"],
      properties: { topic: { const: "aws/chat" }, content: { type: "string" } },
    },
  ],
});

/** What is wrong with one frame, measured against the protocol and openapi.yaml. */
function frameProblems(frame: unknown): string[] {
  if (!validFrame(frame)) {
    return validFrame.errors!.map((e) => `frame${e.instancePath} ${e.message}`);
  }
  const { topic, content } = frame as { topic: string; content?: unknown };
  if (topic !== "aws/chat") return [];
  let item: unknown;
  try {
    item = JSON.parse(content as string);
  } catch {
    return [`content is not a JSON string: ${content}`];
  }
  if (!validItem(item)) {
    return validItem.errors!.map((e) => `item${e.instancePath} ${e.message} (${e.schemaPath})`);
  }
  return [];
}

Deno.test("every frame the websocket sends validates; every pushed item is an openapi.yaml Item", async (t) => {
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    scanning: { delayMs: 300 },
  });
  const url = stack.participantUrl;
  const sockets: ChatSocket[] = [];
  try {
    await t.step("a chat goes through every kind of item", async () => {
      const chat = await startChatContact(url, "contract-instance");
      const customer = await connectParticipant(url, chat.ParticipantToken);
      const customerSocket = await openChatSocket(customer.websocketUrl);
      sockets.push(customerSocket);
      const agentJoin = await joinAsAgent(url, chat.ContactId);
      const agent = await connectParticipant(url, agentJoin.participantToken);
      const agentSocket = await openChatSocket(agent.websocketUrl);
      sockets.push(agentSocket);
      for (const socket of sockets) {
        socket.send({ topic: "aws/heartbeat" });
        socket.send({ topic: "aws/ping" });
      }
      const call = (token: string, path: string, body: unknown) =>
        fetch(`${url}/participant/${path}`, {
          method: "POST",
          headers: { "x-amz-bearer": token },
          body: JSON.stringify(body),
        }).then((r) => r.json());
      await call(customer.connectionToken, "message", {
        ContentType: "text/plain",
        Content: "hello",
      });
      await call(agent.connectionToken, "event", {
        ContentType: "application/vnd.amazonaws.connect.event.typing",
      });
      const clean = await sendFile(url, customer.connectionToken, {
        name: "clean.pdf",
        type: "application/pdf",
        bytes: randomBytes(1_000, 1),
      });
      const infected = await sendFile(url, agent.connectionToken, {
        name: "eicar.txt",
        type: "text/plain",
        bytes: new TextEncoder().encode(EICAR),
      });
      for (const socket of sockets) {
        await socket.waitFor((i) =>
          i.Attachments?.[0]?.AttachmentId === clean && i.Attachments[0].Status === "APPROVED"
        );
        await socket.waitFor((i) =>
          i.Attachments?.[0]?.AttachmentId === infected && i.Attachments[0].Status === "REJECTED"
        );
      }
      await call(agent.connectionToken, "disconnect", {});
      await call(customer.connectionToken, "disconnect", {});
      await customerSocket.closed;
      await agentSocket.closed;
    });

    await t.step("every frame and every pushed item validates", () => {
      const frames = sockets.flatMap((s) => s.frames);
      const items = sockets.flatMap((s) => s.items());
      const kinds = new Set(items.map((i) => `${i.Type} ${i.Attachments?.[0]?.Status ?? ""}`));
      for (
        const kind of [
          "PARTICIPANT_JOINED ",
          "MESSAGE ",
          "TYPING ",
          "ATTACHMENT IN_PROGRESS",
          "ATTACHMENT APPROVED",
          "ATTACHMENT REJECTED",
          "PARTICIPANT_LEFT ",
          "EVENT ",
        ]
      ) assert.ok(kinds.has(kind), `a ${kind.trim()} item was pushed (${[...kinds]})`);
      assert.deepEqual(
        new Set(frames.map((f) => f.topic)),
        new Set(["aws/subscribe", "aws/heartbeat", "aws/ping", "aws/chat"]),
      );
      const problems = frames.flatMap((frame) =>
        frameProblems(frame).map((p) => `${JSON.stringify(frame).slice(0, 120)}: ${p}`)
      );
      assert.deepEqual(problems, []);
    });

    await t.step("the checker refuses frames that break the contract", () => {
      const good = sockets[0].frames.find((f) => f.topic === "aws/chat")!;
      assert.deepEqual(frameProblems(good), []);
      const item = JSON.parse(good.content as string);
      const withItem = (changed: unknown) => ({
        topic: "aws/chat",
        content: JSON.stringify(changed),
      });
      assert.ok(frameProblems(withItem({ ...item, Unknown: 1 })).length > 0);
      assert.ok(frameProblems(withItem({ ...item, Type: "WHATEVER" })).length > 0);
      assert.ok(
        frameProblems(withItem({
          ...item,
          Attachments: [{ AttachmentId: "a", Status: "SCANNED" }],
        })).length > 0,
      );
      assert.ok(frameProblems({ topic: "aws/chat", content: item }).length > 0, "not a string");
      assert.ok(frameProblems({ topic: "aws/ping", statusCode: 500 }).length > 0);
      assert.ok(
        frameProblems({ topic: "aws/subscribe", content: { status: "ok", topics: [] } })
          .length > 0,
      );
    });
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
    await stack.close();
  }
});
