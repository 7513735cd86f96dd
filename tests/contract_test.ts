/**
 * Contract tests: every answer the local service sends, success and each error shape of all
 * eight operations, validates against openapi.yaml (status, X-Amzn-ErrorType,
 * X-Amzn-RequestId, Content-Type and body schema); every request our client sent validates
 * too, and every request the spec refuses is refused; and every optional member of each
 * answer's shape shows up in some answer, so that a member the service stops sending is seen.
 * The exchanges are recorded on the wire by a wrapping fetch over real sockets.
 */
import assert from "node:assert/strict";
import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { armFault } from "../local/faults.ts";
import { type Exchange, putUpload, recordingFetch } from "./_http.ts";
import { randomBytes } from "../testing/data.ts";

interface Parameter {
  name: string;
  in: string;
  required?: boolean;
  schema: unknown;
}
interface Operation {
  operationId: string;
  parameters?: { $ref: string }[];
  requestBody?: { content: Record<string, { schema: unknown }> };
  responses: Record<string, { $ref?: string; content?: Record<string, { schema: unknown }> }>;
}
type SchemaNode = {
  $ref?: string;
  type?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  allOf?: SchemaNode[];
};
type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components: {
    responses: Record<string, { headers?: Record<string, unknown> }>;
    parameters: Record<string, Parameter>;
    schemas: Record<string, SchemaNode>;
  };
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

/** The optional answer members the local service never sends, and why. */
const MEMBERS_NOT_SENT: Record<string, string> = {
  "CreateParticipantConnectionResponse.WebRTCConnection": "no calls or meetings, only chat",
  "Item.MessageMetadata": "no delivery or read receipts",
  "Item.RelatedContactId": "no persistent chats: every item is from the current contact",
  "SendMessageResponse.MessageMetadata": "messages are never held for processing",
  "StartChatContactResponse.ContinuedFromContactId": "no persistent chats",
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

/** A schema of openapi.yaml with its `#/components/...` references made absolute. */
function absolute(schema: unknown): object {
  return JSON.parse(JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${SPEC_ID}#/`));
}

/** What is wrong with one recorded request (its X-Amz-Bearer and body), against openapi.yaml. */
function requestProblems(exchange: Exchange): string[] {
  const operation = operationOf(exchange);
  if (!operation) return [`${exchange.method} ${exchange.path} is not in openapi.yaml`];
  const problems: string[] = [];
  for (const { $ref } of operation.parameters ?? []) {
    const parameter = spec.components.parameters[$ref.split("/").pop()!];
    const value = exchange.requestHeaders?.get(parameter.name);
    if (value === null || value === undefined) {
      if (parameter.required) problems.push(`no ${parameter.name}`);
      continue;
    }
    const validate = ajv.compile(absolute(parameter.schema));
    if (!validate(value)) problems.push(`${parameter.name} ${validate.errors![0].message}`);
  }
  const schema = operation.requestBody?.content["application/json"]?.schema as { $ref: string };
  let body: unknown;
  try {
    body = JSON.parse(exchange.requestBody ?? "");
  } catch {
    return [...problems, `request body is not JSON: ${exchange.requestBody}`];
  }
  const validate = ajv.compile({ $ref: `${SPEC_ID}${schema.$ref}` });
  if (!validate(body)) {
    problems.push(
      ...validate.errors!.map((e) => `request${e.instancePath} ${e.message} (${e.schemaPath})`),
    );
  }
  return problems;
}

/**
 * Every member of the answers' shapes, as `Shape.Member` (`Shape.Member.Inner` for an inline
 * object), from each operation's success schema down.
 */
function answerMembers(): Set<string> {
  const members = new Set<string>();
  const walk = (node: SchemaNode, name: string) => {
    if (node.$ref) {
      const shape = node.$ref.split("/").pop()!;
      if (members.has(`@${shape}`)) return;
      members.add(`@${shape}`);
      return walk(spec.components.schemas[shape], shape);
    }
    for (const [member, inner] of Object.entries(node.properties ?? {})) {
      members.add(`${name}.${member}`);
      walk(inner, `${name}.${member}`);
    }
    if (node.items) walk(node.items, name);
  };
  for (const methods of Object.values(spec.paths)) {
    for (const operation of Object.values(methods)) {
      walk(operation.responses["200"].content!["application/json"].schema as SchemaNode, "");
    }
  }
  return new Set([...members].filter((m) => !m.startsWith("@")));
}

/** The members (as {@link answerMembers} names them) that one answer body holds. */
function membersIn(node: SchemaNode, value: unknown, name: string, into: Set<string>): void {
  if (node.$ref) {
    const shape = node.$ref.split("/").pop()!;
    return membersIn(spec.components.schemas[shape], value, shape, into);
  }
  if (Array.isArray(value) && node.items) {
    for (const item of value) membersIn(node.items, item, name, into);
    return;
  }
  if (typeof value !== "object" || value === null) return;
  into.add(`@${name}`);
  for (const [member, inner] of Object.entries(node.properties ?? {})) {
    if (!(member in value)) continue;
    into.add(`${name}.${member}`);
    membersIn(inner, (value as Record<string, unknown>)[member], `${name}.${member}`, into);
  }
}

Deno.test("every answer of the local service validates against openapi.yaml", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, maxAttachmentsPerChat: 1 });
  const url = stack.participantUrl;
  const recorder = recordingFetch();
  const client = createParticipantClient({ endpoint: url, fetch: recorder.fetch, retry: false });
  /** The exchanges made by hand (not by our client), many of them invalid on purpose. */
  const byHand = new Set<Exchange>();
  const send = async (path: string, init: RequestInit) => {
    const text = await recorder.fetch(`${url}${path}`, init).then((r) => r.text());
    byHand.add(recorder.exchanges.at(-1)!);
    return text;
  };
  const post = (path: string, token: string | undefined, body: unknown) =>
    send(path, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        ...(token === undefined ? {} : { "X-Amz-Bearer": token }),
      },
      body: JSON.stringify(body),
    });
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
      await send("/contact/chat", {
        method: "PUT",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ ContactFlowId: "flow" }),
      });

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

    await t.step("every request our client sent matches openapi.yaml", () => {
      const problems = exchanges.filter((e) => !byHand.has(e)).flatMap((e) =>
        requestProblems(e).map((p) => `${e.method} ${e.path}: ${p}`)
      );
      assert.deepEqual(problems, []);
      assert.ok(exchanges.length - byHand.size > 20, "the client's requests were checked");
    });

    await t.step("every request that breaks openapi.yaml was refused with a 4xx", () => {
      const broken = exchanges.filter((e) => requestProblems(e).length > 0);
      assert.ok(broken.length >= 7, "each operation got an invalid request");
      const accepted = broken.filter((e) => e.status < 400 || e.status >= 500)
        .map((e) => `${e.method} ${e.path} ${e.requestBody} → ${e.status}`);
      assert.deepEqual(accepted, []);
    });

    await t.step("every optional member of every answer's shape was sent somewhere", () => {
      const seen = new Set<string>();
      for (const exchange of exchanges) {
        const declared = operationOf(exchange)?.responses[String(exchange.status)];
        const schema = declared?.content?.["application/json"]?.schema as SchemaNode | undefined;
        if (exchange.status !== 200 || !schema) continue;
        membersIn(schema, JSON.parse(exchange.body ?? "null"), "", seen);
      }
      const all = answerMembers();
      // A member counts where its shape was sent at all; a shape never sent is a member missed
      // one level up.
      const reached = (member: string) => seen.has(`@${member.slice(0, member.lastIndexOf("."))}`);
      const missing = [...all].filter((m) =>
        reached(m) && !seen.has(m) && !(m in MEMBERS_NOT_SENT)
      );
      assert.deepEqual(missing, [], "members no answer carried");
      const stale = Object.keys(MEMBERS_NOT_SENT).filter((m) => seen.has(m) || !all.has(m));
      assert.deepEqual(stale, [], "MEMBERS_NOT_SENT lists members that were sent or do not exist");
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

      const request = (changes: Partial<Exchange>) => requestProblems({ ...good, ...changes });
      assert.deepEqual(request({}), []);
      const body = JSON.parse(good.requestBody!);
      assert.ok(request({ requestBody: JSON.stringify({ ...body, Extra: 1 }) }).length > 0);
      assert.ok(
        request({ requestBody: JSON.stringify({ ...body, AttachmentSizeInBytes: 0 }) }).length > 0,
      );
      assert.ok(
        request({ requestBody: JSON.stringify({ ...body, ClientToken: undefined }) }).length > 0,
      );
      assert.ok(request({ requestHeaders: new Headers() }).length > 0);
      assert.ok(
        request({ requestHeaders: new Headers({ "x-amz-bearer": "t".repeat(1001) }) }).length > 0,
      );

      // An answer without a member that other answers of its shape carry is still valid on its
      // own: only the coverage across the run sees it.
      const got = exchanges.find((e) => e.path === "/participant/attachment" && e.status === 200)!;
      const { UrlExpiry: _, ...withoutExpiry } = JSON.parse(got.body!);
      assert.deepEqual(contractProblems({ ...got, body: JSON.stringify(withoutExpiry) }), []);
      const seen = new Set<string>();
      const schema = operationOf(got)!.responses["200"].content!["application/json"].schema;
      membersIn(schema as SchemaNode, withoutExpiry, "", seen);
      assert.ok(
        seen.has("GetAttachmentResponse.Url") && !seen.has("GetAttachmentResponse.UrlExpiry"),
      );
    });
  } finally {
    await stack.close();
  }
});
