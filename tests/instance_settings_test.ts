/**
 * The instance's attachment settings: the official `@aws-sdk/client-connect`, unchanged (dummy
 * credentials, endpoint set to the local service), sets and reads them with
 * UpdateAttachedFilesConfiguration and DescribeAttachedFilesConfiguration; StartAttachmentUpload
 * then enforces that instance's size limit and extensions, and Amazon Connect's defaults where
 * nobody configured the instance. The expected answers are written out here, never asked of
 * the code under test.
 */
import assert from "node:assert/strict";
import {
  ConnectClient,
  DescribeAttachedFilesConfigurationCommand,
  InvalidParameterException,
  UpdateAttachedFilesConfigurationCommand,
} from "@aws-sdk/client-connect";
import { startLocalStack } from "../local/stack.ts";
import { startChatContact } from "./_chat_socket.ts";

/** Amazon Connect's defaults for a chat on an instance nobody configured. */
const DEFAULT_LIMIT = 20_971_520;
const DEFAULT_EXTENSIONS = [
  "csv",
  "doc",
  "docx",
  "heic",
  "jfif",
  "jpeg",
  "jpg",
  "mov",
  "mp4",
  "pdf",
  "png",
  "ppt",
  "pptx",
  "rtf",
  "txt",
  "wav",
  "xls",
  "xlsx",
];

/** A chat on an instance, and StartAttachmentUpload's status and error type for a file. */
async function chatOn(participantUrl: string, instanceId: string) {
  const started = await startChatContact(participantUrl, instanceId);
  const connection = await fetch(`${participantUrl}/participant/connection`, {
    method: "POST",
    headers: { "x-amz-bearer": started.ParticipantToken },
    body: JSON.stringify({ Type: ["CONNECTION_CREDENTIALS"] }),
  }).then((r) => r.json());
  const token = connection.ConnectionCredentials.ConnectionToken;
  return async (name: string, size: number, type = "application/octet-stream") => {
    const response = await fetch(`${participantUrl}/participant/start-attachment-upload`, {
      method: "POST",
      headers: { "x-amz-bearer": token },
      body: JSON.stringify({
        AttachmentName: name,
        AttachmentSizeInBytes: size,
        ContentType: type,
        ClientToken: crypto.randomUUID(),
      }),
    });
    await response.body?.cancel();
    return `${response.status} ${response.headers.get("x-amzn-errortype") ?? "-"}`;
  };
}

const ACCEPTED = "200 -";
const REFUSED = "400 ValidationException";

Deno.test("instance attachment settings through the official Amazon Connect SDK", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const connect = new ConnectClient({
    region: "us-east-1",
    endpoint: stack.participantUrl,
    credentials: { accessKeyId: "AKIDLOCALEXAMPLE", secretAccessKey: "local-secret" },
    maxAttempts: 1,
  });
  try {
    await t.step("an instance nobody configured: Amazon Connect's defaults, enforced", async () => {
      const described = await connect.send(
        new DescribeAttachedFilesConfigurationCommand({
          InstanceId: "fresh-instance",
          AttachmentScope: "CHAT",
        }),
      );
      assert.equal(described.$metadata.httpStatusCode, 200);
      const config = described.AttachedFilesConfiguration!;
      assert.equal(config.InstanceId, "fresh-instance");
      assert.equal(config.AttachmentScope, "CHAT");
      assert.equal(config.MaximumSizeLimitInBytes, DEFAULT_LIMIT);
      assert.deepEqual(
        config.ExtensionConfiguration?.AllowedExtensions?.map((e) => e.Extension),
        DEFAULT_EXTENSIONS,
      );

      const start = await chatOn(stack.participantUrl, "fresh-instance");
      const table: [string, number, string][] = [
        ["limit.pdf", 20_971_520, ACCEPTED],
        ["over.pdf", 20_971_521, REFUSED],
        ["huge.pdf", 104_857_600, REFUSED],
        ["one.txt", 1, ACCEPTED],
        ["Photo.JPG", 10, ACCEPTED],
        ["run.exe", 10, REFUSED],
        ["archive.zip", 10, REFUSED],
        ["no-extension", 10, REFUSED],
        ["report.pdf.exe", 10, REFUSED],
        ["empty.pdf", 0, REFUSED],
      ];
      for (const [name, size, expected] of table) {
        assert.equal(await start(name, size), expected, `${name}, ${size} bytes`);
      }
      for (const extension of DEFAULT_EXTENSIONS) {
        assert.equal(await start(`file.${extension}`, 100), ACCEPTED, extension);
      }
    });

    await t.step(
      "UpdateAttachedFilesConfiguration sets a limit and extensions; Describe reads them",
      async () => {
        const before = Date.now();
        const updated = await connect.send(
          new UpdateAttachedFilesConfigurationCommand({
            InstanceId: "small-instance",
            AttachmentScope: "CHAT",
            MaximumSizeLimitInBytes: 1024,
            ExtensionConfiguration: {
              AllowedExtensions: [{ Extension: "txt" }, { Extension: "log" }],
            },
          }),
        );
        assert.equal(updated.InstanceId, "small-instance");
        assert.equal(updated.AttachmentScope, "CHAT");
        assert.equal(updated.MaximumSizeLimitInBytes, 1024);
        assert.deepEqual(updated.ExtensionConfiguration?.AllowedExtensions, [
          { Extension: "txt" },
          { Extension: "log" },
        ]);
        assert.ok(updated.LastModifiedTime instanceof Date, "LastModifiedTime parses as a date");
        assert.ok(Math.abs(updated.LastModifiedTime.getTime() - before) < 60_000);

        const described = await connect.send(
          new DescribeAttachedFilesConfigurationCommand({
            InstanceId: "small-instance",
            AttachmentScope: "CHAT",
          }),
        );
        assert.equal(described.AttachedFilesConfiguration?.MaximumSizeLimitInBytes, 1024);
        assert.deepEqual(
          described.AttachedFilesConfiguration?.ExtensionConfiguration?.AllowedExtensions,
          [{ Extension: "txt" }, { Extension: "log" }],
        );

        const start = await chatOn(stack.participantUrl, "small-instance");
        const table: [string, number, string][] = [
          ["notes.txt", 1024, ACCEPTED],
          ["notes.txt", 1025, REFUSED],
          ["server.LOG", 10, ACCEPTED],
          ["report.pdf", 10, REFUSED],
          ["photo.png", 10, REFUSED],
        ];
        for (const [name, size, expected] of table) {
          assert.equal(await start(name, size), expected, `${name}, ${size} bytes`);
        }
        // Another instance keeps the defaults.
        const other = await chatOn(stack.participantUrl, "other-instance");
        assert.equal(await other("report.pdf", 20_000_000), ACCEPTED);
      },
    );

    await t.step(
      "a partial update changes only what it names; the limit goes up to 100 MB",
      async () => {
        await connect.send(
          new UpdateAttachedFilesConfigurationCommand({
            InstanceId: "small-instance",
            AttachmentScope: "CHAT",
            MaximumSizeLimitInBytes: 104_857_600,
          }),
        );
        const start = await chatOn(stack.participantUrl, "small-instance");
        assert.equal(await start("big.txt", 104_857_600), ACCEPTED);
        assert.equal(await start("big.txt", 104_857_601), REFUSED);
        assert.equal(await start("big.pdf", 10), REFUSED, "the extensions stayed");
        await connect.send(
          new UpdateAttachedFilesConfigurationCommand({
            InstanceId: "small-instance",
            AttachmentScope: "CHAT",
            ExtensionConfiguration: { AllowedExtensions: [{ Extension: "pdf" }] },
          }),
        );
        assert.equal(await start("big.pdf", 104_857_600), ACCEPTED, "the limit stayed");
        assert.equal(await start("notes.txt", 10), REFUSED);
        // Other scopes are their own.
        const email = await connect.send(
          new DescribeAttachedFilesConfigurationCommand({
            InstanceId: "small-instance",
            AttachmentScope: "EMAIL",
          }),
        );
        assert.equal(email.AttachedFilesConfiguration?.MaximumSizeLimitInBytes, DEFAULT_LIMIT);
      },
    );

    await t.step("values outside the model are InvalidParameterException", async () => {
      const refused: [string, Record<string, unknown>][] = [
        ["a limit over 100 MB", { MaximumSizeLimitInBytes: 104_857_601 }],
        ["a limit of 0", { MaximumSizeLimitInBytes: 0 }],
        ["an extension with a dot", {
          ExtensionConfiguration: { AllowedExtensions: [{ Extension: ".pdf" }] },
        }],
        ["an extension of 11 characters", {
          ExtensionConfiguration: { AllowedExtensions: [{ Extension: "abcdefghijk" }] },
        }],
      ];
      for (const [what, input] of refused) {
        const error = await connect.send(
          new UpdateAttachedFilesConfigurationCommand({
            InstanceId: "checked-instance",
            AttachmentScope: "CHAT",
            ...input,
          }),
        ).then(() => undefined, (e) => e);
        assert.ok(error instanceof InvalidParameterException, `${what}: ${error}`);
        assert.equal(error.$metadata.httpStatusCode, 400);
      }
      const scope = await fetch(
        `${stack.participantUrl}/attached-files-configurations/checked-instance/VOICE`,
      );
      assert.equal(scope.status, 400);
      assert.equal(scope.headers.get("x-amzn-errortype"), "InvalidParameterException");
      await scope.body?.cancel();
      const described = await connect.send(
        new DescribeAttachedFilesConfigurationCommand({
          InstanceId: "checked-instance",
          AttachmentScope: "CHAT",
        }),
      );
      assert.equal(described.AttachedFilesConfiguration?.MaximumSizeLimitInBytes, DEFAULT_LIMIT);
    });
  } finally {
    connect.destroy();
    await stack.close();
  }
});

Deno.test("MAX_ATTACHMENT_BYTES of the local stack sets the unconfigured instance's limit", async () => {
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    maxAttachmentBytes: 1_073_741_824,
  });
  try {
    const start = await chatOn(stack.participantUrl, "bench-instance");
    assert.equal(await start("large.mp4", 1_073_741_824), ACCEPTED);
    assert.equal(await start("large.mp4", 1_073_741_825), REFUSED);
    assert.equal(await start("large.exe", 10), REFUSED, "the default extensions still apply");
  } finally {
    await stack.close();
  }
});
