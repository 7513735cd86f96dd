/**
 * The worker, the library and the CLI follow the instance: with the local instance set through
 * the official `@aws-sdk/client-connect` to allow `.zip`, `.pdf` and `.txt` up to 50 MB, each of
 * them, with its default settings, takes a 30 MB `.zip` into the chat, and refuses a `.png` the
 * instance no longer allows (415 / `unsupported_type`) and a 60 MB `.pdf` (413 / `too_large`)
 * with the service's own message; nothing of the refused files reaches the chat (transcript) or
 * the bucket (S3). The worker runs in workerd and in Deno. With an explicit policy
 * (`MAX_ATTACHMENT_BYTES`, `ALLOWED_TYPES`), the worker refuses early, without a call.
 *
 * Every expected answer is written here.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { ConnectClient, UpdateAttachedFilesConfigurationCommand } from "@aws-sdk/client-connect";
import { AttachmentError, uploadAttachment } from "../src/mod.ts";
import { openChat } from "../local/chat.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { LOCAL_S3_CREDENTIALS } from "../local/s3.ts";
import { randomBytes } from "../testing/data.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { type Rig, startRig } from "./_rig.ts";
import { REPO_ROOT, runDeno } from "./_run.ts";
import { workerFetch } from "./_worker_contract.ts";

const MB = 1024 * 1024;
const INSTANCE_LIMIT = 50 * MB;
const ZIP = randomBytes(30 * MB, 30);
const PDF_60MB = randomBytes(60 * MB, 60);
const PNG = randomBytes(2000, 2);

/** The local instance, through the official SDK: `.zip`, `.pdf` and `.txt`, up to 50 MB. */
async function configureInstance(participantUrl: string): Promise<void> {
  const connect = new ConnectClient({
    region: "us-east-1",
    endpoint: participantUrl,
    credentials: { accessKeyId: "AKIDLOCALEXAMPLE", secretAccessKey: "local-secret" },
    maxAttempts: 1,
  });
  try {
    const updated = await connect.send(
      new UpdateAttachedFilesConfigurationCommand({
        InstanceId: "local-instance",
        AttachmentScope: "CHAT",
        MaximumSizeLimitInBytes: INSTANCE_LIMIT,
        ExtensionConfiguration: {
          AllowedExtensions: [{ Extension: "zip" }, { Extension: "pdf" }, { Extension: "txt" }],
        },
      }),
    );
    assert.equal(updated.MaximumSizeLimitInBytes, INSTANCE_LIMIT);
  } finally {
    connect.destroy();
  }
}

/** Every object in the stack's bucket, by key, with its size (a signed ListObjectsV2). */
async function bucketObjects(stack: LocalStack): Promise<Map<string, number>> {
  const s3 = new AwsClient({ ...LOCAL_S3_CREDENTIALS, service: "s3" });
  const answer = await s3.fetch(`${stack.s3.url}/${stack.s3.bucket}?list-type=2`);
  const xml = await answer.text();
  assert.equal(answer.status, 200, xml);
  const objects = new Map<string, number>();
  for (const [, entry] of xml.matchAll(/<Contents>(.*?)<\/Contents>/gs)) {
    const key = /<Key>(.*?)<\/Key>/.exec(entry)![1];
    objects.set(key, Number(/<Size>(\d+)<\/Size>/.exec(entry)![1]));
  }
  return objects;
}

/** The attachments of a chat's transcript: name, type and status. */
async function transcript(participantUrl: string, token: string): Promise<string[]> {
  const client = createParticipantClient({ endpoint: participantUrl });
  const { data, error } = await client.getTranscript(token, { MaxResults: 100 });
  assert.equal(error, undefined);
  return data!.Transcript!.flatMap((item) => item.Attachments ?? [])
    .map((a) => `${a.AttachmentName} ${a.ContentType} ${a.Status}`);
}

/** A problem's fields that the scenario checks. */
interface Refusal {
  status: number;
  code: string;
  detail: string;
  upstream?: { service: string; name: string; status: number };
}

async function put(rig: Rig, name: string, body: Uint8Array<ArrayBuffer>): Promise<Refusal> {
  const sent = await rig.upload(name, body);
  return { status: sent.status, ...sent.json } as unknown as Refusal;
}

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: the worker with its default settings follows the instance's limits, set through the official SDK`, async (t) => {
    const rig = await startRig(runtime);
    try {
      await configureInstance(rig.stack.participantUrl);

      await t.step("GET /policy: Amazon Connect's bound, no list of types", async () => {
        const answer = await workerFetch(`${rig.worker.url}/policy`);
        assert.equal(answer.status, 200);
        assert.deepEqual(await answer.json(), { maxBytes: 104_857_600 });
      });

      await t.step("a 30 MB .zip: 201, in the transcript, in the bucket", async () => {
        const sent = await rig.upload("backup.zip", ZIP);
        assert.equal(sent.status, 201, JSON.stringify(sent.json));
        assert.equal(sent.json.contentType, "application/zip");
        assert.equal(sent.json.size, 30 * MB);
        assert.deepEqual(await transcript(rig.stack.participantUrl, rig.token), [
          "backup.zip application/zip APPROVED",
        ]);
        assert.deepEqual([...(await bucketObjects(rig.stack)).values()], [30 * MB]);
      });

      await t.step(
        "a .png the instance no longer allows: 415 with the service's message",
        async () => {
          const refused = await put(rig, "photo.png", PNG);
          assert.equal(refused.status, 415, JSON.stringify(refused));
          assert.equal(refused.code, "unsupported_type");
          assert.match(
            refused.detail,
            /^StartAttachmentUpload failed: ValidationException: The extension \.png is not allowed for chat attachments on this instance; allowed: \.zip \.pdf \.txt$/,
          );
          assert.deepEqual(refused.upstream && { ...refused.upstream, requestId: undefined }, {
            service: "participant",
            name: "ValidationException",
            status: 400,
            requestId: undefined,
          });
        },
      );

      await t.step(
        "a 60 MB .pdf, over the instance's 50 MB: 413 with the service's message",
        async () => {
          const refused = await put(rig, "scan.pdf", PDF_60MB);
          assert.equal(refused.status, 413, JSON.stringify(refused));
          assert.equal(refused.code, "too_large");
          assert.equal(
            refused.detail,
            "StartAttachmentUpload failed: ValidationException: The attachment is 62914560 bytes; " +
              "this instance accepts at most 52428800 bytes",
          );
          assert.equal(refused.upstream?.name, "ValidationException");
        },
      );

      await t.step("nothing of the refused files reached the chat or the bucket", async () => {
        assert.deepEqual(await transcript(rig.stack.participantUrl, rig.token), [
          "backup.zip application/zip APPROVED",
        ]);
        assert.deepEqual([...(await bucketObjects(rig.stack)).values()], [30 * MB]);
        assert.equal(rig.calls.CompleteAttachmentUpload, 1);
        // No byte of them went towards S3: the only PUT through the S3 proxy is the .zip's.
        assert.equal(rig.proxy.heads.filter((head) => head.startsWith("PUT ")).length, 1);
      });
    } finally {
      await rig.close();
    }
  });

  Deno.test(`${runtime}: with MAX_ATTACHMENT_BYTES and ALLOWED_TYPES, the worker refuses early, without a call`, async () => {
    const rig = await startRig(runtime, {
      vars: { MAX_ATTACHMENT_BYTES: String(10 * MB), ALLOWED_TYPES: "zip, .PNG,application/pdf" },
    });
    try {
      await configureInstance(rig.stack.participantUrl);
      const policy = await workerFetch(`${rig.worker.url}/policy`);
      assert.deepEqual(await policy.json(), {
        maxBytes: 10 * MB,
        allowedTypes: ["zip", "png", "application/pdf"],
      });
      const starts = rig.calls.StartAttachmentUpload ?? 0;
      const tooLarge = await put(rig, "backup.zip", ZIP);
      assert.equal(tooLarge.status, 413);
      assert.equal(tooLarge.detail, "the file is 31457280 bytes; the limit is 10485760 bytes");
      const wrongType = await put(rig, "notes.txt", randomBytes(10));
      assert.equal(wrongType.status, 415);
      assert.equal(
        wrongType.detail,
        '"notes.txt" does not end in an accepted extension; accepted: .pdf .png .zip',
      );
      assert.equal(rig.calls.StartAttachmentUpload ?? 0, starts, "no upstream call was made");
      // Within the policy, the instance still decides: it no longer allows .png.
      const png = await put(rig, "photo.png", PNG);
      assert.equal(png.status, 415);
      assert.equal(png.upstream?.name, "ValidationException");
      assert.deepEqual(await bucketObjects(rig.stack), new Map());
    } finally {
      await rig.close();
    }
  });
}

Deno.test("the library and the CLI with their default settings follow the instance's limits", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const dir = await Deno.makeTempDir({ prefix: "instance-limits-" });
  try {
    await configureInstance(stack.participantUrl);
    const endpoint = stack.participantUrl;
    await Deno.writeFile(`${dir}/backup.zip`, ZIP);
    await Deno.writeFile(`${dir}/photo.png`, PNG);
    await Deno.writeFile(`${dir}/scan.pdf`, PDF_60MB);

    await t.step("uploadAttachment", async () => {
      const { connectionToken } = await openChat(createParticipantClient({ endpoint }));
      const sent = await uploadAttachment({ endpoint, connectionToken, file: ZIP, name: "a.zip" });
      assert.equal(sent.completed, true);
      assert.equal(sent.contentType, "application/zip");
      const png = await uploadAttachment({ endpoint, connectionToken, file: `${dir}/photo.png` })
        .catch((error) => error);
      assert.ok(png instanceof AttachmentError, String(png));
      assert.equal(png.code, "unsupported_type");
      assert.equal(png.stage, "start");
      assert.match(png.message, /ValidationException: The extension \.png is not allowed/);
      assert.equal(png.upstream?.name, "ValidationException");
      const pdf = await uploadAttachment({ endpoint, connectionToken, file: `${dir}/scan.pdf` })
        .catch((error) => error);
      assert.ok(pdf instanceof AttachmentError, String(pdf));
      assert.equal(pdf.code, "too_large");
      assert.equal(pdf.stage, "start");
      assert.match(pdf.message, /this instance accepts at most 52428800 bytes$/);
      assert.deepEqual(await transcript(endpoint, connectionToken), [
        "a.zip application/zip APPROVED",
      ]);
    });

    await t.step("the CLI", async () => {
      const { connectionToken } = await openChat(createParticipantClient({ endpoint }));
      const cli = (file: string) =>
        runDeno(["run", "-A", `${REPO_ROOT}src/cli.ts`, "upload", file, "--endpoint", endpoint], {
          cwd: dir,
          env: { CONNECT_CONNECTION_TOKEN: connectionToken },
        });
      const zip = await cli("backup.zip");
      assert.equal(zip.code, 0, zip.stderr);
      const png = await cli("photo.png");
      assert.equal(png.code, 3, png.stderr);
      assert.match(png.stderr, /The extension \.png is not allowed.*\(unsupported_type\)/);
      const pdf = await cli("scan.pdf");
      assert.equal(pdf.code, 3, pdf.stderr);
      assert.match(pdf.stderr, /accepts at most 52428800 bytes.*\(too_large\)/);
      assert.deepEqual(await transcript(endpoint, connectionToken), [
        "backup.zip application/zip APPROVED",
      ]);
    });

    await t.step("the bucket holds the two .zip files and nothing else", async () => {
      assert.deepEqual([...(await bucketObjects(stack)).values()], [30 * MB, 30 * MB]);
    });
  } finally {
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
});
