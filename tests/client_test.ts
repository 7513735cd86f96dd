/**
 * The typed client against the local service over real sockets: every error shape arrives as
 * a typed value, and retries keep the ClientToken so that a retried call does its work once.
 */
import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient, type ParticipantResult } from "../src/_core/client.ts";
import type { ParticipantServiceError } from "../src/_core/upstream.ts";
import { armFault, callCounts, clearFaults } from "../local/faults.ts";
import { putUpload, recordingFetch } from "./_http.ts";
import { randomBytes } from "../testing/data.ts";

/** Asserts that a call failed with `name` and `status`, with a message and a request id. */
function assertError(
  result: ParticipantResult<unknown>,
  name: string,
  status: number,
): ParticipantServiceError {
  assert.equal(result.data, undefined);
  const { error } = result;
  assert.ok(error, "an error value");
  assert.equal(error.name, name, error.message);
  assert.equal(error.status, status);
  assert.ok(error.message.length > 0);
  assert.equal(error.retryable, status === 429 || status >= 500 || status === 0);
  if (status > 0) {
    assert.ok(error.requestId, "a request id");
    assert.equal(error.requestId, result.response!.headers.get("x-amzn-requestid"));
  }
  return error;
}

const txt = (size: number, name = "notes.txt") => ({
  AttachmentName: name,
  ContentType: "text/plain",
  AttachmentSizeInBytes: size,
});

Deno.test("the client against the local service", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, maxAttachmentsPerChat: 1 });
  const url = stack.participantUrl;
  const once = createParticipantClient({ endpoint: url, retry: false });
  const attachmentsOf = (contactId: string) =>
    stack.service.store.chats.get(contactId)!.attachments;
  try {
    await t.step("ValidationException, typed, with message, status and request id", async () => {
      const { connectionToken } = await openChat(once);
      const bad = await once.startAttachmentUpload(connectionToken, {
        AttachmentName: "tool.exe",
        ContentType: "application/x-msdownload",
        AttachmentSizeInBytes: 10,
      });
      assertError(bad, "ValidationException", 400);
      assertError(
        await once.getTranscript(connectionToken, { MaxResults: 1000 }),
        "ValidationException",
        400,
      );
    });

    await t.step("AccessDeniedException for an unknown token", async () => {
      assertError(await once.getTranscript("no-such-token"), "AccessDeniedException", 403);
      assertError(
        await once.createParticipantConnection("no-such-token"),
        "AccessDeniedException",
        403,
      );
    });

    await t.step("AccessDeniedException for a disconnected participant's tokens", async () => {
      const chat = await openChat(once);
      assert.ok((await once.getTranscript(chat.connectionToken)).data);
      assert.ok((await once.disconnectParticipant(chat.connectionToken)).data);
      assertError(await once.getTranscript(chat.connectionToken), "AccessDeniedException", 403);
      assertError(
        await once.createParticipantConnection(chat.participantToken),
        "AccessDeniedException",
        403,
      );
    });

    await t.step("ServiceQuotaExceededException once the chat holds its attachments", async () => {
      const { contactId, connectionToken } = await openChat(once);
      const bytes = randomBytes(64);
      const first = await once.startAttachmentUpload(connectionToken, txt(bytes.length));
      const second = await once.startAttachmentUpload(connectionToken, txt(bytes.length));
      for (const started of [first, second]) {
        const { Url, HeadersToInclude } = started.data!.UploadMetadata!;
        assert.equal((await putUpload(Url!, HeadersToInclude!, bytes)).status, 200);
      }
      assert.ok(
        (await once.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [first.data!.AttachmentId!],
        })).data,
      );
      assertError(
        await once.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [second.data!.AttachmentId!],
        }),
        "ServiceQuotaExceededException",
        402,
      );
      assertError(
        await once.startAttachmentUpload(connectionToken, txt(1)),
        "ServiceQuotaExceededException",
        402,
      );
      const completed = [...attachmentsOf(contactId).values()].filter((a) => a.completed);
      assert.equal(completed.length, 1);
    });

    await t.step("ConflictException when the bytes never arrived", async () => {
      const { connectionToken } = await openChat(once);
      const started = await once.startAttachmentUpload(connectionToken, txt(10));
      assertError(
        await once.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [started.data!.AttachmentId!],
        }),
        "ConflictException",
        409,
      );
    });

    await t.step("with retry off, Throttling and InternalServer errors surface", async () => {
      const { connectionToken } = await openChat(once);
      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "throttle" });
      assertError(await once.getTranscript(connectionToken), "ThrottlingException", 429);
      await armFault(url, { operation: "GetTranscript", kind: "error" });
      assertError(await once.getTranscript(connectionToken), "InternalServerException", 500);
      await armFault(url, { operation: "GetTranscript", kind: "drop" });
      assertError(await once.getTranscript(connectionToken), "NetworkError", 0);
      assert.equal((await callCounts(url)).GetTranscript, 3);
    });

    await t.step(
      "with retry on, faulted calls are tried again with the SAME ClientToken and do their work once",
      async () => {
        const recorder = recordingFetch();
        const client = createParticipantClient({
          endpoint: url,
          fetch: recorder.fetch,
          retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5 },
        });
        const { contactId, connectionToken } = await openChat(once);
        await clearFaults(url);
        // The first two answers are lost after the service did the work.
        await armFault(url, {
          operation: "StartAttachmentUpload",
          kind: "error",
          when: "after",
          count: 1,
        });
        await armFault(url, {
          operation: "StartAttachmentUpload",
          kind: "throttle",
          when: "after",
          count: 1,
        });
        const bytes = randomBytes(300);
        const started = await client.startAttachmentUpload(connectionToken, txt(bytes.length));
        assert.ok(started.data, JSON.stringify(started.error));
        assert.equal((await callCounts(url)).StartAttachmentUpload, 3);
        const starts = recorder.exchanges.filter((e) =>
          e.path === "/participant/start-attachment-upload"
        );
        assert.deepEqual(starts.map((e) => e.status), [500, 429, 200]);
        const tokens = starts.map((e) => JSON.parse(e.requestBody!).ClientToken);
        assert.equal(new Set(tokens).size, 1, `one ClientToken: ${tokens}`);
        assert.equal(attachmentsOf(contactId).size, 1, "one attachment");
        assert.ok(attachmentsOf(contactId).has(started.data.AttachmentId!));

        const { Url, HeadersToInclude } = started.data.UploadMetadata!;
        assert.equal((await putUpload(Url!, HeadersToInclude!, bytes)).status, 200);
        await armFault(url, {
          operation: "CompleteAttachmentUpload",
          kind: "drop",
          when: "after",
          count: 2,
        });
        const done = await client.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [started.data.AttachmentId!],
        });
        assert.ok(done.data, JSON.stringify(done.error));
        assert.equal((await callCounts(url)).CompleteAttachmentUpload, 3);
        const completes = recorder.exchanges.filter((e) =>
          e.path === "/participant/complete-attachment-upload"
        );
        assert.equal(new Set(completes.map((e) => JSON.parse(e.requestBody!).ClientToken)).size, 1);
        const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
        const items = transcript.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT");
        assert.equal(items.length, 1, "one ATTACHMENT item");
      },
    );

    await t.step("with retry on, dropped connections and stalled answers are retried", async () => {
      const client = createParticipantClient({
        endpoint: url,
        retry: { maxAttempts: 4, baseDelayMs: 1, maxDelayMs: 5, attemptTimeoutMs: 400 },
      });
      const { connectionToken } = await openChat(once);
      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "drop", count: 2 });
      assert.ok((await client.getTranscript(connectionToken)).data);
      assert.equal((await callCounts(url)).GetTranscript, 3);
      await clearFaults(url);
      // The message is sent, then its answer stalls past the try's time-out.
      await armFault(url, {
        operation: "SendMessage",
        kind: "delay",
        delayMs: 1500,
        when: "after",
      });
      const sent = await client.sendMessage(connectionToken, {
        ContentType: "text/plain",
        Content: "hello",
        ClientToken: crypto.randomUUID(),
      });
      assert.ok(sent.data, JSON.stringify(sent.error));
      assert.ok((await callCounts(url)).SendMessage >= 2);
      const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
      const messages = transcript.data!.Transcript!.filter((i) => i.Type === "MESSAGE");
      assert.equal(messages.length, 1, "the stalled try and its retry sent one message");
    });

    await t.step("with retry on, a stall on every try ends in a TimeoutError", async () => {
      const client = createParticipantClient({
        endpoint: url,
        retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 5, attemptTimeoutMs: 100 },
      });
      const { connectionToken } = await openChat(once);
      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "delay", delayMs: 400, count: 2 });
      assertError(await client.getTranscript(connectionToken), "TimeoutError", 0);
    });

    await t.step("with retry on, 4xx answers are never tried again", async () => {
      const client = createParticipantClient({
        endpoint: url,
        retry: { maxAttempts: 5, baseDelayMs: 1, maxDelayMs: 5 },
      });
      const { connectionToken } = await openChat(once);
      await clearFaults(url);
      assertError(
        await client.startAttachmentUpload(connectionToken, { ...txt(1), AttachmentName: "" }),
        "ValidationException",
        400,
      );
      assertError(await client.getTranscript("no-such-token"), "AccessDeniedException", 403);
      const started = await client.startAttachmentUpload(connectionToken, txt(5));
      assertError(
        await client.completeAttachmentUpload(connectionToken, {
          AttachmentIds: [started.data!.AttachmentId!],
        }),
        "ConflictException",
        409,
      );
      const calls = await callCounts(url);
      assert.equal(calls.StartAttachmentUpload, 2);
      assert.equal(calls.GetTranscript, 1);
      assert.equal(calls.CompleteAttachmentUpload, 1);
    });

    await t.step("a caller's abort rejects the call instead of returning an error", async () => {
      const { connectionToken } = await openChat(once);
      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "delay", delayMs: 300 });
      const controller = new AbortController();
      const pending = once.getTranscript(connectionToken, {}, { signal: controller.signal });
      setTimeout(() => controller.abort(), 20);
      await assert.rejects(pending, (e) => e instanceof DOMException && e.name === "AbortError");
    });
  } finally {
    await stack.close();
  }
});

Deno.test("AccessDeniedException for an expired ConnectionToken", async () => {
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    connectionTtlSeconds: 0.3,
  });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl, retry: false });
    const chat = await openChat(client);
    await new Promise((r) => setTimeout(r, 500));
    assertError(await client.getTranscript(chat.connectionToken), "AccessDeniedException", 403);
    // The ParticipantToken still buys a fresh ConnectionToken.
    const renewed = await client.createParticipantConnection(chat.participantToken, {
      Type: ["CONNECTION_CREDENTIALS"],
    });
    const fresh = renewed.data!.ConnectionCredentials!.ConnectionToken!;
    assert.notEqual(fresh, chat.connectionToken);
    assertError(await client.getTranscript(chat.connectionToken), "AccessDeniedException", 403);
  } finally {
    await stack.close();
  }
});
