/**
 * Contract tests: every answer the local service sends, success and each error shape of all
 * eight operations, validates against openapi.yaml (status, X-Amzn-ErrorType,
 * X-Amzn-RequestId, Content-Type and body schema). The answers are recorded on the wire by a
 * wrapping fetch over real sockets.
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/client.ts";
import { armFault, type Exchange, putUpload, randomBytes, recordingFetch } from "./_support.ts";

interface Operation {
  operationId: string;
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components: { responses: Record<string, { headers?: Record<string, unknown> }> };
};

const SPEC_ID = "https://connect-attachments.invalid/openapi.yaml";
const spec = parse(await Deno.readTextFile(new URL("../openapi.yaml", import.meta.url))) as Spec;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addFormat("int64", { type: "number", validate: (n: number) => Number.isSafeInteger(n) });
ajv.addKeyword("components");
ajv.addSchema({ $id: SPEC_ID, components: spec.components });

/** The answers the local service cannot be made to send, and why. */
const NOT_SENT: Record<string, string> = {
  "StartChatContact 404": "the local service starts a chat for any instance and contact flow",
};

function operationOf(exchange: Exchange): Operation | undefined {
  return spec.paths[exchange.path]?.[exchange.method.toLowerCase()];
}

/** What is wrong with one recorded answer, measured against openapi.yaml. */
function contractProblems(exchange: Exchange): string[] {
  const operation = operationOf(exchange);
  if (!operation) return [`${exchange.method} ${exchange.path} is not in openapi.yaml`];
  const declared = operation.responses[String(exchange.status)];
  if (!declared) return [`status ${exchange.status} is not declared`];
  const problems: string[] = [];
  if (!exchange.headers.get("x-amzn-requestid")) problems.push("no X-Amzn-RequestId");
  if (!exchange.headers.get("content-type")?.startsWith("application/json")) {
    problems.push(`Content-Type ${exchange.headers.get("content-type")}`);
  }
  let schema: unknown;
  if (declared.$ref) {
    const shape = declared.$ref.split("/").pop()!;
    const component = spec.components.responses[shape];
    assert.ok(component?.headers?.["X-Amzn-ErrorType"], `${shape} declares X-Amzn-ErrorType`);
    const errorType = exchange.headers.get("x-amzn-errortype");
    if (errorType !== shape) problems.push(`X-Amzn-ErrorType ${errorType}, expected ${shape}`);
    schema = { $ref: `${SPEC_ID}#/components/schemas/${shape}` };
  } else {
    if (exchange.headers.has("x-amzn-errortype")) problems.push("X-Amzn-ErrorType on a success");
    const ref = (declared.content?.["application/json"]?.schema as { $ref: string }).$ref;
    schema = { $ref: `${SPEC_ID}${ref}` };
  }
  let body: unknown;
  try {
    body = JSON.parse(exchange.body ?? "");
  } catch {
    return [...problems, `body is not JSON: ${exchange.body}`];
  }
  const validate = ajv.compile(schema as object);
  if (!validate(body)) {
    problems.push(
      ...validate.errors!.map((e) => `body${e.instancePath} ${e.message} (${e.schemaPath})`),
    );
  }
  return problems;
}

Deno.test("every answer of the local service validates against openapi.yaml", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, maxAttachmentsPerChat: 1 });
  const url = stack.participantUrl;
  const recorder = recordingFetch();
  const client = createParticipantClient({ endpoint: url, fetch: recorder.fetch, retry: false });
  const post = (path: string, token: string | undefined, body: unknown) =>
    recorder.fetch(`${url}${path}`, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { "X-Amz-Bearer": token }),
      },
      body: JSON.stringify(body),
    }).then((r) => r.text());
  const paths: Record<string, string> = {
    CreateParticipantConnection: "/participant/connection",
    StartAttachmentUpload: "/participant/start-attachment-upload",
    CompleteAttachmentUpload: "/participant/complete-attachment-upload",
    GetAttachment: "/participant/attachment",
    GetTranscript: "/participant/transcript",
    SendMessage: "/participant/message",
    DisconnectParticipant: "/participant/disconnect",
  };
  try {
    await t.step("exercise every operation, its success and its errors", async () => {
      // Successes, with every optional part of the answers present somewhere.
      const chat = await openChat(client);
      const both = await client.createParticipantConnection(chat.participantToken, {
        Type: ["WEBSOCKET", "CONNECTION_CREDENTIALS"],
      });
      assert.ok(both.data?.Websocket?.Url);
      const token = chat.connectionToken;
      const bytes = randomBytes(1000);
      const a = await client.startAttachmentUpload(token, {
        AttachmentName: "a.txt",
        ContentType: "text/plain",
        AttachmentSizeInBytes: bytes.length,
      });
      const b = await client.startAttachmentUpload(token, {
        AttachmentName: "b.txt",
        ContentType: "text/plain",
        AttachmentSizeInBytes: bytes.length,
      });
      for (const started of [a, b]) {
        const { Url, HeadersToInclude } = started.data!.UploadMetadata!;
        assert.equal((await putUpload(Url!, HeadersToInclude!, bytes)).status, 200);
      }
      const aId = a.data!.AttachmentId!;
      assert.ok((await client.completeAttachmentUpload(token, { AttachmentIds: [aId] })).data);
      // The chat holds its one attachment: both quota errors.
      const quota = await client.completeAttachmentUpload(token, {
        AttachmentIds: [b.data!.AttachmentId!],
      });
      assert.equal(quota.error?.name, "ServiceQuotaExceededException");
      const quotaStart = await client.startAttachmentUpload(token, {
        AttachmentName: "c.txt",
        ContentType: "text/plain",
        AttachmentSizeInBytes: 1,
      });
      assert.equal(quotaStart.error?.name, "ServiceQuotaExceededException");
      assert.ok((await client.getAttachment(token, { AttachmentId: aId })).data);
      for (let i = 0; i < 3; i++) {
        assert.ok(
          (await client.sendMessage(token, { ContentType: "text/plain", Content: `m${i}` }))
            .data,
        );
      }
      const page = await client.getTranscript(token, { MaxResults: 2 });
      assert.ok(page.data?.NextToken);
      await client.getTranscript(token, { MaxResults: 2, NextToken: page.data.NextToken });

      // ConflictException: completing an attachment whose bytes never came.
      const other = await openChat(client);
      const missing = await client.startAttachmentUpload(other.connectionToken, {
        AttachmentName: "never.pdf",
        ContentType: "application/pdf",
        AttachmentSizeInBytes: 10,
      });
      const conflict = await client.completeAttachmentUpload(other.connectionToken, {
        AttachmentIds: [missing.data!.AttachmentId!],
      });
      assert.equal(conflict.error?.name, "ConflictException");

      // ValidationException from every operation.
      await post(paths.CreateParticipantConnection, other.participantToken, { Type: [] });
      await post(paths.StartAttachmentUpload, token, { AttachmentName: "x.exe" });
      await post(paths.CompleteAttachmentUpload, token, { AttachmentIds: [] });
      await post(paths.GetAttachment, token, {});
      await post(paths.GetTranscript, token, { MaxResults: 101 });
      await post(paths.SendMessage, token, { ContentType: "text/plain" });
      await post(paths.DisconnectParticipant, token, { ClientToken: "x".repeat(501) });
      // InvalidRequestException from StartChatContact.
      await recorder.fetch(`${url}/contact/chat`, {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ContactFlowId: "flow" }),
      }).then((r) => r.text());

      // AccessDeniedException from every Participant Service operation.
      for (const path of Object.values(paths)) await post(path, "not-a-token", {});
      await post(paths.GetTranscript, undefined, {});

      // Throttling and internal errors from all eight operations, injected before and after
      // the handler.
      const faultKinds = [
        { kind: "throttle", when: "before" },
        { kind: "error", when: "after" },
      ] as const;
      for (const fault of faultKinds) {
        for (const [operation, path] of Object.entries(paths)) {
          await armFault(url, { operation, ...fault });
          const bearer = operation === "CreateParticipantConnection"
            ? other.participantToken
            : other.connectionToken;
          await post(
            path,
            bearer,
            operation === "SendMessage"
              ? { ContentType: "text/plain", Content: "hi" }
              : operation === "GetAttachment"
              ? { AttachmentId: aId }
              : operation === "StartAttachmentUpload"
              ? {
                AttachmentName: "f.txt",
                ContentType: "text/plain",
                AttachmentSizeInBytes: 1,
                ClientToken: "t",
              }
              : operation === "CompleteAttachmentUpload"
              ? { AttachmentIds: [missing.data!.AttachmentId!], ClientToken: "t" }
              : {},
          );
        }
        await armFault(url, { operation: "StartChatContact", ...fault });
        await openChat(client).catch(() => undefined);
      }

      // DisconnectParticipant's success, last, on a chat of its own.
      const leaving = await openChat(client);
      assert.ok((await client.disconnectParticipant(leaving.connectionToken)).data);
    });

    const exchanges = recorder.exchanges.filter((e) => !e.path.startsWith("/_local/"));

    await t.step("each operation sent its success and every error it declares", () => {
      const seen = new Set(exchanges.map((e) => `${operationOf(e)?.operationId} ${e.status}`));
      const missing: string[] = [];
      for (const methods of Object.values(spec.paths)) {
        for (const operation of Object.values(methods)) {
          for (const status of Object.keys(operation.responses)) {
            const key = `${operation.operationId} ${status}`;
            if (!seen.has(key) && !(key in NOT_SENT)) missing.push(key);
          }
        }
      }
      assert.deepEqual(missing, []);
    });

    await t.step("every recorded answer matches openapi.yaml", () => {
      const problems = exchanges.flatMap((e) =>
        contractProblems(e).map((p) => `${e.method} ${e.path} → ${e.status}: ${p}`)
      );
      assert.deepEqual(problems, []);
    });

    await t.step("the checker refuses answers that break the contract", () => {
      const good = exchanges.find((e) =>
        e.path === "/participant/start-attachment-upload" && e.status === 200
      )!;
      const bad = (changes: Partial<Exchange>) => contractProblems({ ...good, ...changes });
      assert.deepEqual(contractProblems(good), []);
      assert.ok(bad({ status: 404 }).length > 0);
      assert.ok(bad({ body: JSON.stringify({ AttachmentId: "" }) }).length > 0);
      assert.ok(bad({ body: JSON.stringify({ Unknown: 1 }) }).length > 0);
      assert.ok(bad({ headers: new Headers({ "content-type": "application/json" }) }).length > 0);
      const denied = exchanges.find((e) => e.status === 403)!;
      const renamed = new Headers(denied.headers);
      renamed.set("x-amzn-errortype", "ValidationException");
      assert.ok(contractProblems({ ...denied, headers: renamed }).length > 0);
      assert.ok(contractProblems({ ...denied, body: "{}" }).length > 0);
    });
  } finally {
    await stack.close();
  }
});
