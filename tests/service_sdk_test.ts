/**
 * The official AWS SDK client for the Participant Service, pointed at the local service with
 * an endpoint override and dummy credentials: it signs its requests with SigV4 (ignored) and
 * parses the wire errors into its own typed exceptions.
 */
import assert from "node:assert/strict";
import {
  AccessDeniedException,
  CompleteAttachmentUploadCommand,
  ConflictException,
  ConnectParticipantClient,
  CreateParticipantConnectionCommand,
  GetAttachmentCommand,
  GetTranscriptCommand,
  InternalServerException,
  StartAttachmentUploadCommand,
  ThrottlingException,
  ValidationException,
} from "@aws-sdk/client-connectparticipant";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { armFault, callCounts, clearFaults } from "../local/faults.ts";
import { putUpload } from "./_http.ts";
import { randomBytes, sha256 } from "../testing/data.ts";

Deno.test("the official AWS SDK client works against the local service", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const url = stack.participantUrl;
  const sdk = (maxAttempts: number) => {
    const client = new ConnectParticipantClient({
      region: "us-east-1",
      endpoint: url,
      credentials: { accessKeyId: "AKIDLOCALEXAMPLE", secretAccessKey: "local-secret" },
      maxAttempts,
    });
    const sent: Record<string, string>[] = [];
    // After signing: what actually goes on the wire.
    client.middlewareStack.add(
      (next) => (args) => {
        sent.push({ ...(args.request as { headers: Record<string, string> }).headers });
        return next(args);
      },
      { step: "deserialize", name: "recordSentHeaders" },
    );
    return { client, sent };
  };
  const { client, sent } = sdk(1);
  const ours = createParticipantClient({ endpoint: url, retry: false });
  try {
    await t.step(
      "CreateParticipantConnection, StartAttachmentUpload, PUT, CompleteAttachmentUpload, GetTranscript, GetAttachment",
      async () => {
        const chat = await openChat(ours);
        const connection = await client.send(
          new CreateParticipantConnectionCommand({
            ParticipantToken: chat.participantToken,
            Type: ["CONNECTION_CREDENTIALS"],
            ConnectParticipant: true,
          }),
        );
        const token = connection.ConnectionCredentials!.ConnectionToken!;
        assert.ok(token);
        const bytes = randomBytes(40_000, 9);
        const started = await client.send(
          new StartAttachmentUploadCommand({
            ConnectionToken: token,
            AttachmentName: "invoice.pdf",
            ContentType: "application/pdf",
            AttachmentSizeInBytes: bytes.length,
          }),
        );
        assert.equal(started.$metadata.httpStatusCode, 200);
        assert.ok(started.$metadata.requestId);
        const { Url, HeadersToInclude } = started.UploadMetadata!;
        assert.equal((await putUpload(Url!, HeadersToInclude!, bytes)).status, 200);
        await client.send(
          new CompleteAttachmentUploadCommand({
            ConnectionToken: token,
            AttachmentIds: [started.AttachmentId!],
          }),
        );
        const transcript = await client.send(
          new GetTranscriptCommand({ ConnectionToken: token, MaxResults: 100 }),
        );
        const item = transcript.Transcript!.find((i) => i.Type === "ATTACHMENT");
        assert.deepEqual(item?.Attachments, [{
          AttachmentId: started.AttachmentId,
          AttachmentName: "invoice.pdf",
          ContentType: "application/pdf",
          Status: "APPROVED",
        }]);
        const got = await client.send(
          new GetAttachmentCommand({
            ConnectionToken: token,
            AttachmentId: started.AttachmentId!,
            UrlExpiryInSeconds: 60,
          }),
        );
        assert.equal(got.AttachmentSizeInBytes, bytes.length);
        const download = await fetch(got.Url!);
        assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));
      },
    );

    await t.step("the SDK signed every request with SigV4, and the service let it through", () => {
      assert.ok(sent.length >= 5);
      for (const headers of sent) {
        const lower = Object.fromEntries(
          Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]),
        );
        assert.match(lower.authorization, /^AWS4-HMAC-SHA256 Credential=AKIDLOCALEXAMPLE\//);
        assert.ok(lower["x-amz-date"]);
        assert.ok(lower["x-amz-bearer"]);
      }
    });

    await t.step("wire errors arrive as the SDK's typed exceptions", async () => {
      const { connectionToken } = await openChat(ours);
      const denied = await client.send(new GetTranscriptCommand({ ConnectionToken: "nope" }))
        .then(() => undefined, (e) => e);
      assert.ok(denied instanceof AccessDeniedException, String(denied));
      assert.equal(denied.$metadata.httpStatusCode, 403);
      assert.ok(denied.$metadata.requestId);
      assert.match(denied.message, /token/);

      const invalid = await client.send(
        new StartAttachmentUploadCommand({
          ConnectionToken: connectionToken,
          AttachmentName: "run.exe",
          ContentType: "application/x-msdownload",
          AttachmentSizeInBytes: 10,
        }),
      ).then(() => undefined, (e) => e);
      assert.ok(invalid instanceof ValidationException, String(invalid));
      assert.equal(invalid.$metadata.httpStatusCode, 400);

      const started = await client.send(
        new StartAttachmentUploadCommand({
          ConnectionToken: connectionToken,
          AttachmentName: "a.txt",
          ContentType: "text/plain",
          AttachmentSizeInBytes: 10,
        }),
      );
      const conflict = await client.send(
        new CompleteAttachmentUploadCommand({
          ConnectionToken: connectionToken,
          AttachmentIds: [started.AttachmentId!],
        }),
      ).then(() => undefined, (e) => e);
      assert.ok(conflict instanceof ConflictException, String(conflict));

      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "throttle" });
      const throttled = await client.send(
        new GetTranscriptCommand({ ConnectionToken: connectionToken }),
      ).then(() => undefined, (e) => e);
      assert.ok(throttled instanceof ThrottlingException, String(throttled));
      await armFault(url, { operation: "GetTranscript", kind: "error" });
      const failed = await client.send(
        new GetTranscriptCommand({ ConnectionToken: connectionToken }),
      ).then(() => undefined, (e) => e);
      assert.ok(failed instanceof InternalServerException, String(failed));
      assert.equal(failed.$fault, "server");
    });

    await t.step("the SDK's own retry rides out injected throttling", async () => {
      const { connectionToken } = await openChat(ours);
      await clearFaults(url);
      await armFault(url, { operation: "GetTranscript", kind: "throttle" });
      const patient = sdk(2).client;
      const transcript = await patient.send(
        new GetTranscriptCommand({ ConnectionToken: connectionToken }),
      );
      assert.equal(transcript.$metadata.attempts, 2);
      assert.equal((await callCounts(url)).GetTranscript, 2);
      patient.destroy();
    });
  } finally {
    client.destroy();
    await stack.close();
  }
});
