/**
 * Safe retries without assumptions about the service, in workerd and Deno: whatever
 * StartAttachmentUpload gives for a repeated ClientToken (the attachment it made before, or a
 * new one: the local service plays both), a retry with the same Idempotency-Key never
 * completes an attachment whose bytes S3 did not store, and a ConflictException on completion
 * is settled by the chat's transcript.
 */
import assert from "node:assert/strict";
import { headObject } from "../local/presign.ts";
import type { LocalStack } from "../local/stack.ts";
import { AttachmentError, uploadAttachment } from "../src/mod.ts";
import { randomBytes, sha256 } from "../testing/data.ts";
import { type Rig, startRig, withChat } from "./_rig.ts";
import { startWorker, type WorkerRuntime } from "../testing/worker.ts";
import { workerFetch } from "./_worker_contract.ts";

const RUNTIMES: WorkerRuntime[] = ["workerd", "deno"];
const BEHAVIOURS = ["same-attachment", "new-attachment"] as const;
const pdf = { "Content-Type": "application/pdf" };

/** Switches the local service's answer to a repeated ClientToken, through its HTTP API. */
async function answerRepeatedClientToken(rig: Rig, behaviour: typeof BEHAVIOURS[number]) {
  const response = await fetch(`${rig.stack.participantUrl}/_local/behaviour`, {
    method: "POST",
    body: JSON.stringify({ repeatedClientToken: behaviour }),
  });
  const text = await response.text();
  assert.equal(response.status, 200, text);
  assert.equal(JSON.parse(text).repeatedClientToken, behaviour);
}

/**
 * Makes the next CompleteAttachmentUpload a ConflictException: `after` the completion took (its
 * answer replaced), or `before` (refused).
 */
function conflictOnCompletion(stack: LocalStack, when: "before" | "after"): void {
  stack.service.faults.add({ operation: "CompleteAttachmentUpload", kind: "conflict", when });
}

/** PUTs that reached S3 so far. */
const putsToS3 = (rig: Rig) => rig.proxy.heads.filter((h) => h.startsWith("PUT ")).length;

/**
 * Every completed attachment of every chat has all its bytes in S3: nothing half-done was
 * completed.
 */
async function assertCompletedAreStored(rig: Rig): Promise<void> {
  const target = { ...rig.stack.service.s3, publicUrl: undefined };
  for (const attachment of rig.stack.service.store.attachments()) {
    if (!attachment.completed) continue;
    const stored = await headObject(target, attachment.key);
    assert.equal(stored?.size, attachment.size, `${attachment.id} was completed without bytes`);
  }
}

/**
 * The first try of an upload whose completions are lost (`drops` of them): the worker answers
 * 502 and nothing is in the chat. The local service answers a repeated ClientToken with
 * `behaviour` from then on.
 *
 * @returns The headers the upload went with (to retry with), and the worker's answer.
 */
async function uploadWithCompletionsLost(
  rig: Rig,
  behaviour: typeof BEHAVIOURS[number],
  upload: { name: string; body: Uint8Array<ArrayBuffer>; idempotencyKey: string; drops: number },
) {
  await answerRepeatedClientToken(rig, behaviour);
  const headers = { ...pdf, "Idempotency-Key": upload.idempotencyKey };
  rig.stack.service.faults.add({
    operation: "CompleteAttachmentUpload",
    kind: "drop",
    count: upload.drops,
  });
  const first = await rig.upload(upload.name, upload.body, headers);
  assert.equal(first.status, 502, JSON.stringify(first.json));
  assert.equal((await rig.attachments()).length, 0, "nothing half-done is in the chat");
  return { headers, first };
}

/** The bytes of an attachment, fetched back through a worker. */
async function fetchedBack(workerUrl: string, token: string, id: unknown): Promise<string> {
  const response = await workerFetch(`${workerUrl}/attachments/${id}`, {
    headers: { "X-Amz-Bearer": token },
  });
  assert.equal(response.status, 200);
  return await sha256(await response.arrayBuffer());
}

for (const runtime of RUNTIMES) {
  for (const behaviour of BEHAVIOURS) {
    Deno.test(`${runtime}, ${behaviour} for a repeated ClientToken: a lost completion is finished by a retry that completes the attachment S3 stored, without sending the bytes again`, async () => {
      const rig = await startRig(runtime);
      try {
        const body = randomBytes(200_000, 3);
        const lost = { name: "report.pdf", body, idempotencyKey: "finish-me", drops: 99 };
        const { headers, first } = await uploadWithCompletionsLost(rig, behaviour, lost);
        assert.equal(first.json.code, "service_unavailable");
        assert.ok(first.json.attachmentId, "the problem names the attachment");
        assert.equal(putsToS3(rig), 1);
        assert.equal(rig.calls.StartAttachmentUpload, 1);

        rig.stack.service.faults.clear();
        const retried = await rig.upload("report.pdf", body, headers);
        assert.equal(retried.status, 201, JSON.stringify(retried.json));
        assert.equal(retried.json.attachmentId, first.json.attachmentId);
        assert.equal(putsToS3(rig), 1, "the bytes were not sent to S3 again");
        assert.equal(rig.calls.StartAttachmentUpload, 1, "no new upload was started");
        const again = await rig.upload("report.pdf", body, headers);
        assert.equal(again.status, 201);
        assert.equal(again.json.attachmentId, first.json.attachmentId);

        assert.deepEqual((await rig.attachments()).map((a) => a.id), [first.json.attachmentId]);
        assert.equal(
          await fetchedBack(rig.worker.url, rig.token, first.json.attachmentId),
          await sha256(body),
        );
        await assertCompletedAreStored(rig);
      } finally {
        await rig.close();
      }
    });

    Deno.test(`${runtime}, ${behaviour} for a repeated ClientToken: a retry that reaches another instance uploads the bytes again and completes only what S3 stored`, async () => {
      const rig = await startRig(runtime);
      // A second instance, with a memory of its own (empty), as on another isolate.
      const other = await startWorker({
        runtime,
        participantUrl: rig.stack.participantUrl,
        uploadHosts: [new URL(rig.proxy.url).host],
      });
      try {
        const body = randomBytes(150_000, 4);
        const lost = { name: "ledger.pdf", body, idempotencyKey: "elsewhere", drops: 3 };
        const { headers, first } = await uploadWithCompletionsLost(rig, behaviour, lost);

        const response = await workerFetch(`${other.url}/attachments/ledger.pdf`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": rig.token, ...headers },
          body,
        });
        const retried = await response.json();
        assert.equal(response.status, 201, JSON.stringify(retried));
        assert.equal(putsToS3(rig), 2, "the other instance sent the bytes itself");
        if (behaviour === "same-attachment") {
          assert.equal(retried.attachmentId, first.json.attachmentId);
        } else {
          assert.notEqual(retried.attachmentId, first.json.attachmentId);
        }
        // One attachment in the chat, with the very bytes sent; nothing completed without its
        // bytes (the first attachment, in new-attachment mode, stays uncompleted).
        assert.deepEqual((await rig.attachments()).map((a) => a.id), [retried.attachmentId]);
        assert.equal(
          await fetchedBack(other.url, rig.token, retried.attachmentId),
          await sha256(body),
        );
        await assertCompletedAreStored(rig);
      } finally {
        await other.close();
        await rig.close();
      }
    });
  }

  Deno.test(`${runtime}: a ConflictException on completion is settled by the transcript`, async () => {
    const rig = await startRig(runtime);
    try {
      // The completion took, and then its answer became a ConflictException: the transcript
      // shows the attachment, so the upload is done.
      conflictOnCompletion(rig.stack, "after");
      const done = await rig.upload("done.pdf", randomBytes(50_000, 5), pdf);
      assert.equal(done.status, 201, JSON.stringify(done.json));
      assert.equal(done.json.completed, true);
      assert.deepEqual((await rig.attachments()).map((a) => a.id), [done.json.attachmentId]);

      // The service refused the completion with a ConflictException: not in the transcript, so
      // a clear failure, and nothing in the chat.
      conflictOnCompletion(rig.stack, "before");
      const refused = await rig.upload("refused.pdf", randomBytes(50_000, 6), pdf);
      assert.equal(refused.status, 502, JSON.stringify(refused.json));
      assert.equal(refused.json.code, "completion_failed");
      assert.match(String(refused.json.detail), /ConflictException.*transcript/);
      assert.deepEqual(refused.json.upstream, {
        service: "participant",
        name: "ConflictException",
        status: 409,
        requestId: (refused.json.upstream as { requestId: string }).requestId,
      });
      assert.ok(refused.json.attachmentId);
      assert.deepEqual((await rig.attachments()).map((a) => a.id), [done.json.attachmentId]);
      await assertCompletedAreStored(rig);
    } finally {
      await rig.close();
    }
  });
}

Deno.test("the library settles a ConflictException on completion by the transcript too", async () => {
  await withChat(async ({ stack, endpoint, token: connectionToken }) => {
    conflictOnCompletion(stack, "after");
    const sent = await uploadAttachment({
      endpoint,
      connectionToken,
      file: randomBytes(10_000, 7),
      name: "conflict.pdf",
    });
    assert.equal(sent.completed, true);
    assert.equal(sent.status, "APPROVED");

    conflictOnCompletion(stack, "before");
    const failed = await uploadAttachment({
      endpoint,
      connectionToken,
      file: randomBytes(10_000, 8),
      name: "refused.pdf",
    }).catch((error) => error);
    assert.ok(failed instanceof AttachmentError, String(failed));
    assert.equal(failed.code, "completion_failed");
    assert.equal(failed.stage, "complete");
    assert.equal(failed.upstream?.name, "ConflictException");
  });
});
