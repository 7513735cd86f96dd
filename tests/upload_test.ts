import assert from "node:assert/strict";
import { headObject } from "../local/presign.ts";
import { LOCAL_S3_CREDENTIALS } from "../local/s3.ts";
import { deleteBucket } from "./_http.ts";
import { withChat } from "./_rig.ts";
import {
  AttachmentError,
  downloadAttachment,
  type FileInput,
  listAttachments,
  type TransferProgress,
  uploadAttachment,
} from "../src/mod.ts";
import { randomBytes, sha256, streamOf } from "../testing/data.ts";

async function downloaded(endpoint: string, token: string, attachmentId: string) {
  const download = await downloadAttachment({ endpoint, connectionToken: token, attachmentId });
  const bytes = new Uint8Array(await new Response(download.body).arrayBuffer());
  return { ...download, bytes };
}

Deno.test("uploadAttachment takes a path, file URL, FsFile, File, Blob, bytes and a sized stream; each round-trips intact", async () => {
  await withChat(async ({ endpoint, token }) => {
    const dir = await Deno.makeTempDir();
    try {
      const bytes = randomBytes(300_000, 11);
      const digest = await sha256(bytes);
      const path = `${dir}/report.pdf`;
      await Deno.writeFile(path, bytes);
      const opened = await Deno.open(path);
      const cases: { label: string; file: FileInput; name?: string; size?: number }[] = [
        { label: "path", file: path },
        { label: "file URL", file: new URL(`file://${path}`) },
        { label: "FsFile", file: opened, name: "opened.pdf" },
        { label: "File", file: new File([bytes], "file.pdf", { type: "application/pdf" }) },
        { label: "Blob", file: new Blob([bytes]), name: "blob.pdf" },
        { label: "bytes", file: bytes, name: "bytes.pdf" },
        { label: "stream", file: streamOf(bytes, 16_384), name: "stream.pdf", size: bytes.length },
      ];
      try {
        for (const { label, file, name, size } of cases) {
          const progress: TransferProgress[] = [];
          const sent = await uploadAttachment({
            endpoint,
            connectionToken: token,
            file,
            name,
            size,
            onProgress: (p) => progress.push(p),
          });
          assert.equal(sent.completed, true, label);
          assert.equal(sent.size, bytes.length, label);
          assert.equal(sent.contentType, "application/pdf", label);
          assert.deepEqual(progress[0], { loaded: 0, total: bytes.length }, label);
          assert.deepEqual(progress.at(-1), { loaded: bytes.length, total: bytes.length }, label);
          const back = await downloaded(endpoint, token, sent.attachmentId);
          assert.equal(await sha256(back.bytes), digest, label);
          assert.equal(back.name, sent.name, label);
          assert.equal(back.contentType, "application/pdf", label);
        }
      } finally {
        opened.close();
      }
      const listed = await listAttachments({ endpoint, connectionToken: token });
      assert.deepEqual(listed.map((a) => a.name), [
        "report.pdf",
        "report.pdf",
        "opened.pdf",
        "file.pdf",
        "blob.pdf",
        "bytes.pdf",
        "stream.pdf",
      ]);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  });
});

Deno.test("uploadAttachment reads an open FsFile from its position and leaves it open", async () => {
  await withChat(async ({ endpoint, token }) => {
    const path = await Deno.makeTempFile({ suffix: ".txt" });
    const file = await Deno.open(path, { read: true, write: true });
    try {
      await file.write(new TextEncoder().encode("HEADER|the rest"));
      await file.seek(7, Deno.SeekMode.Start);
      const sent = await uploadAttachment({
        endpoint,
        connectionToken: token,
        file,
        name: "rest.txt",
      });
      assert.equal(sent.size, 8);
      const back = await downloaded(endpoint, token, sent.attachmentId);
      assert.equal(new TextDecoder().decode(back.bytes), "the rest");
      assert.equal((await file.stat()).size, 15, "still usable");
    } finally {
      file.close();
      await Deno.remove(path);
    }
  });
});

Deno.test("a stream shorter or longer than its size fails: no completed attachment, never a whole object", async () => {
  await withChat(async ({ stack, endpoint, token, contactId }) => {
    const bytes = randomBytes(200_000, 12);
    const target = { ...LOCAL_S3_CREDENTIALS, url: stack.s3.url, bucket: stack.s3.bucket };
    for (const [label, body] of [["short", bytes.slice(0, 150_000)], ["long", bytes]] as const) {
      const error = await uploadAttachment({
        endpoint,
        connectionToken: token,
        file: streamOf(body, 16_384),
        size: label === "short" ? bytes.length : 150_000,
        name: `${label}.pdf`,
      }).catch((e) => e);
      assert.ok(error instanceof AttachmentError, label);
      assert.equal(error.code, "upload_failed", label);
      assert.equal(error.stage, "upload", label);
      assert.ok(error.attachmentId, label);
      // Real S3 drops a PUT that breaks off; the local S3 may keep what arrived. Either way
      // the whole object never got there.
      const stored = await headObject(target, `${contactId}/${error.attachmentId}`);
      assert.ok(!stored || stored.size < Math.min(bytes.length, 150_000), label);
    }
    assert.deepEqual(await listAttachments({ endpoint, connectionToken: token }), []);
  });
});

Deno.test("an S3 refusal of a streamed upload is an error, and nothing is completed", async () => {
  await withChat(async ({ stack, endpoint, token }) => {
    // Without its bucket, the local S3 answers every PUT with 404 NoSuchBucket.
    await deleteBucket(stack.s3);
    const path = await Deno.makeTempFile({ suffix: ".csv" });
    try {
      await Deno.writeTextFile(path, "a,b\n1,2\n");
      const error = await uploadAttachment({ endpoint, connectionToken: token, file: path })
        .catch((e) => e);
      assert.ok(error instanceof AttachmentError);
      assert.equal(error.code, "upload_refused");
      assert.deepEqual(error.upstream, { service: "s3", name: "NoSuchBucket", status: 404 });
      assert.deepEqual(await listAttachments({ endpoint, connectionToken: token }), []);
    } finally {
      await Deno.remove(path);
    }
  });
});

Deno.test("uploadAttachment refuses bad input before any network call", async () => {
  let requests = 0;
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    requests++;
    return new Response("{}", { status: 500 });
  });
  const endpoint = `http://127.0.0.1:${server.addr.port}`;
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    await Deno.writeTextFile(`${dir}/setup.exe`, "MZ");
    await Deno.writeFile(`${dir}/empty.pdf`, new Uint8Array());
    const base = { endpoint, connectionToken: "token" };
    const refusals: [string, Parameters<typeof uploadAttachment>[0]][] = [
      ["invalid_file", { ...base, file: `${dir}/missing.pdf` }],
      ["invalid_file", { ...base, file: dir }],
      ["invalid_file", { ...base, file: new Blob(["x"]).stream(), name: "s.txt" }],
      ["invalid_file", { ...base, file: new Uint8Array(3), name: "b.txt", size: 4 }],
      ["unsupported_type", { ...base, file: `${dir}/setup.exe`, allowedTypes: ["pdf", "txt"] }],
      ["unsupported_type", {
        ...base,
        file: `${dir}/notes.txt`,
        contentType: "image/svg+xml",
        allowedTypes: ["pdf", "txt"],
      }],
      ["unsupported_type", { ...base, file: `${dir}/notes.txt`, contentType: "PDF" }],
      ["unsupported_type", { ...base, file: new Uint8Array(3), name: "no-extension" }],
      ["invalid_name", { ...base, file: `${dir}/notes.txt`, name: "notes.txt  " }],
      ["invalid_name", { ...base, file: new Uint8Array(3) }],
      ["invalid_name", { ...base, file: `${dir}/notes.txt`, name: "a/b.txt" }],
      ["empty", { ...base, file: `${dir}/empty.pdf` }],
      ["too_large", { ...base, file: new Uint8Array(104_857_601), name: "big.pdf" }],
      ["too_large", { ...base, file: `${dir}/notes.txt`, maxBytes: 4 }],
    ];
    for (const [code, options] of refusals) {
      const error = await uploadAttachment(options).catch((e) => e);
      assert.ok(error instanceof AttachmentError, `${code}: ${error}`);
      assert.equal(error.code, code, error.message);
      assert.equal(error.stage, "validate");
    }
    assert.equal(requests, 0);
  } finally {
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("uploadAttachment sends bytes only to https, or to loopback http while the service is local", async () => {
  await withChat(async ({ endpoint, token }) => {
    // The local service hands out http://127.0.0.1 upload URLs: allowed for a local service...
    const sent = await uploadAttachment({
      endpoint,
      connectionToken: token,
      file: new Uint8Array(5),
      name: "a.txt",
    });
    assert.equal(sent.completed, true);
    // ...and refused by a stricter rule, before S3 is contacted.
    const error = await uploadAttachment({
      endpoint,
      connectionToken: token,
      file: new Uint8Array(5),
      name: "b.txt",
      isUploadUrlAllowed: (url) => url.protocol === "https:",
    }).catch((e) => e);
    assert.equal(error.code, "upload_host_not_allowed");
  });
});
