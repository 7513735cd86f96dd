/// <reference lib="dom" />
/**
 * The browser client (`src/browser.ts`): its pure checks under Deno, and its network calls in
 * headless Chromium against the local stack and the worker in workerd, from the worker's own
 * origin and from another one (CORS).
 */

import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { startWorker } from "../testing/worker.ts";
import { chatAttachments, checkFile, startChat, UploadError } from "../src/browser.ts";
import { AttachmentError, createParticipantClient, uploadAttachment } from "../src/mod.ts";
import { ignoreWithoutChromium, launchBrowser, type Page } from "../testing/browser.ts";
import { randomBytes, sha256 } from "../testing/data.ts";

Deno.test("checkFile refuses what the worker would, with its codes", () => {
  const limits = { maxBytes: 100, allowedTypes: ["application/pdf", "text/plain"] };
  assert.equal(checkFile({ name: "a.pdf", type: "application/pdf", size: 100 }, limits), undefined);
  assert.equal(checkFile({ name: "a.pdf", type: "", size: 101 }, limits)?.code, "too_large");
  assert.equal(checkFile({ name: "notes.TXT", type: "", size: 1 }, limits), undefined);
  assert.equal(
    checkFile({ name: "scan", type: "application/octet-stream", size: 1 }, limits)?.code,
    "unsupported_type",
  );
  assert.equal(
    checkFile({ name: "a.png", type: "image/png", size: 1 }, limits)?.code,
    "unsupported_type",
  );
  assert.equal(checkFile({ name: "a.txt", type: "", size: 0 }, limits)?.code, "empty");
  assert.equal(checkFile({ name: "a\u0007.txt", type: "", size: 1 }, limits)?.code, "invalid_name");
});

Deno.test("checkFile without the worker's limits holds a file only to what every instance requires", () => {
  assert.equal(
    checkFile({ name: "backup.zip", type: "application/zip", size: 104_857_600 }),
    undefined,
  );
  assert.equal(checkFile({ name: "a.pdf", type: "", size: 104_857_601 })?.code, "too_large");
  assert.equal(checkFile({ name: "a.wav", type: "audio/vnd.wave", size: 1 }), undefined);
  assert.equal(checkFile({ name: "notes", type: "", size: 1 })?.code, "unsupported_type");
  assert.equal(checkFile({ name: "x.txt  ", type: "", size: 1 })?.code, "invalid_name");
  // The worker's limits as GET /policy gives them: a number and nothing else, or a list too.
  assert.equal(checkFile({ name: "a.zip", type: "", size: 2 }, { maxBytes: 1 })?.code, "too_large");
  assert.equal(
    checkFile({ name: "a.zip", type: "", size: 1 }, { maxBytes: 10, allowedTypes: ["pdf"] })?.code,
    "unsupported_type",
  );
});

Deno.test("UploadError tells retryable failures from refusals", () => {
  assert.equal(new UploadError("network_error", "x").retryable, true);
  assert.equal(new UploadError("throttled", "x", { status: 429 }).retryable, true);
  assert.equal(new UploadError("service_unavailable", "x", { status: 502 }).retryable, true);
  assert.equal(new UploadError("too_large", "x", { status: 413 }).retryable, false);
});

Deno.test("startChat and chatAttachments (their calls are plain fetch, so Deno runs them): every transcript page, oldest first", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const endpoint = stack.participantUrl;
    const chat = await startChat(endpoint, { displayName: "Ada" });
    const client = createParticipantClient({ endpoint });
    const names: string[] = [];
    // 3 attachments among 230 messages: the transcript spans three 100-item pages.
    for (let i = 0; i < 230; i++) {
      if (i % 100 === 5) {
        const name = `part-${i}.txt`;
        const file = new Uint8Array(4);
        await uploadAttachment({ client, connectionToken: chat.connectionToken, file, name });
        names.push(name);
      }
      const sent = await client.sendMessage(chat.connectionToken, {
        ContentType: "text/plain",
        Content: `message ${i}`,
      });
      assert.equal(sent.error, undefined);
    }
    const listed = await chatAttachments(endpoint, chat.connectionToken);
    assert.deepEqual(listed.map((a) => a.AttachmentName), names);
    assert.ok(listed.every((a) => a.ContentType === "text/plain" && a.Status === "APPROVED"));

    const denied = await chatAttachments(endpoint, "not-a-token").catch((e) => e);
    assert.ok(denied instanceof AttachmentError, String(denied));
    assert.equal(denied.code, "access_denied");
    assert.equal(denied.stage, "list");
  } finally {
    await stack.close();
  }
});

/** What a test page's `client` module is: `src/browser.ts` as the worker serves it. */
type Client = typeof import("../src/browser.ts");

/**
 * Loads the browser client, as the worker serves it at `/dev/browser.js`, into the page as
 * `globalThis.client`: by its URL on the worker's own page (whose CSP allows only its own
 * scripts), through a blob URL on any other origin.
 */
async function loadClient(page: Page, workerUrl: string): Promise<void> {
  const url = `${workerUrl}/dev/browser.js`;
  const response = await fetch(url);
  assert.equal(response.status, 200);
  const source = await response.text();
  await page.evaluate(async ({ url, source }) => {
    const from = new URL(url).origin === location.origin
      ? url
      : URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    (globalThis as unknown as { client: Client }).client = await import(from);
  }, { url, source });
}

Deno.test({
  name: "browser client in Chromium",
  ignore: ignoreWithoutChromium("browser client tests"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const stack: LocalStack = await startLocalStack({ s3Port: 0, participantPort: 0 });
    // A second origin, as a front end elsewhere would be: an empty page.
    const elsewhere = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      () =>
        new Response("<!doctype html><title>front end</title>", {
          headers: { "Content-Type": "text/html" },
        }),
    );
    const frontEnd = `http://127.0.0.1:${elsewhere.addr.port}`;
    const worker = await startWorker({
      runtime: "workerd",
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(stack.s3.url).host],
      corsOrigins: [frontEnd],
      vars: { DEV_PAGE: "true" },
    });
    const browser = await launchBrowser();
    try {
      const page = await browser.newPage();
      await page.goto(`${worker.url}/`);
      await loadClient(page, worker.url);

      await t.step(
        "startChat, then uploadFile reports progress up to the total",
        async () => {
          const result = await page.evaluate(async ({ participantUrl, bytes }) => {
            const { client } = globalThis as unknown as { client: Client };
            const chat = await client.startChat(participantUrl, { displayName: "Ada" });
            const file = new File(
              [Uint8Array.from(atob(bytes), (c) => c.charCodeAt(0))],
              "statement.pdf",
              {
                type: "application/pdf",
              },
            );
            const progress: { loaded: number; total: number; percent: number }[] = [];
            const sent = await client.uploadFile(file, {
              endpoint: location.origin,
              token: chat.connectionToken,
              idempotencyKey: "statement-1",
              onProgress: (p) => progress.push(p),
            });
            const listed = await client.chatAttachments(participantUrl, chat.connectionToken);
            const back = await client.downloadFile(sent.attachmentId, {
              endpoint: location.origin,
              token: chat.connectionToken,
            });
            return {
              chat,
              sent,
              progress,
              listed,
              back: {
                type: back.type,
                base64: await new Promise<string>((resolve) => {
                  const reader = new FileReader();
                  reader.onload = () => resolve(String(reader.result).split(",")[1]);
                  reader.readAsDataURL(back);
                }),
              },
            };
          }, {
            participantUrl: stack.participantUrl,
            bytes: Buffer.from(randomBytes(300_000, 7)).toString("base64"),
          });

          assert.ok(result.chat.connectionToken && result.chat.contactId);
          assert.equal(result.sent.name, "statement.pdf");
          assert.equal(result.sent.contentType, "application/pdf");
          assert.equal(result.sent.size, 300_000);
          assert.equal(result.sent.idempotencyKey, "statement-1");
          assert.equal(
            result.sent.location,
            `${worker.url}/attachments/${encodeURIComponent(result.sent.attachmentId)}`,
          );
          const last = result.progress.at(-1)!;
          assert.deepEqual(last, { loaded: 300_000, total: 300_000, percent: 100 });
          for (let i = 1; i < result.progress.length; i++) {
            assert.ok(result.progress[i].loaded >= result.progress[i - 1].loaded);
          }
          assert.deepEqual(result.listed.map((a) => [a.AttachmentId, a.AttachmentName]), [
            [result.sent.attachmentId, "statement.pdf"],
          ]);
          assert.equal(result.back.type, "application/pdf");
          assert.equal(
            await sha256(new Uint8Array(Buffer.from(result.back.base64, "base64"))),
            await sha256(randomBytes(300_000, 7)),
          );
        },
      );

      await t.step("a blob without a type gets one from its name", async () => {
        const sent = await page.evaluate(async (participantUrl) => {
          const { client } = globalThis as unknown as { client: Client };
          const chat = await client.startChat(participantUrl);
          return await client.uploadFile(new Blob(["hello\n"]), {
            endpoint: location.origin,
            token: chat.connectionToken,
            name: "hello.txt",
          });
        }, stack.participantUrl);
        assert.equal(sent.contentType, "text/plain");
        assert.equal(sent.size, 6);
      });

      await t.step("refusals come back as UploadError with the worker's code", async () => {
        const errors = await page.evaluate(async () => {
          const { client } = globalThis as unknown as { client: Client };
          const file = new File(["x"], "a.txt", { type: "text/plain" });
          const outcomes = [];
          for (const token of ["", "not-a-token"]) {
            try {
              await client.uploadFile(file, {
                endpoint: location.origin,
                token,
                idempotencyKey: "k1",
              });
              outcomes.push(null);
            } catch (error) {
              const e = error as InstanceType<Client["UploadError"]>;
              outcomes.push({
                isUploadError: e instanceof client.UploadError,
                code: e.code,
                status: e.status,
                message: e.message,
                retryable: e.retryable,
                key: e.idempotencyKey,
              });
            }
          }
          return outcomes;
        });
        assert.equal(errors[0]?.isUploadError, true);
        assert.equal(errors[0]?.status, 401);
        assert.equal(errors[1]?.status, 403);
        for (const error of errors) {
          assert.ok(error?.code && !/^http_/.test(error.code), `no stable code: ${error?.code}`);
          assert.ok(error?.message);
          assert.equal(error?.retryable, false);
          assert.equal(error?.key, "k1");
        }
      });

      await t.step("an aborted upload rejects with AbortError and completes nothing", async () => {
        const before = countAttachments(stack);
        const name = await page.evaluate(async (participantUrl) => {
          const { client } = globalThis as unknown as { client: Client };
          const chat = await client.startChat(participantUrl);
          const controller = new AbortController();
          controller.abort();
          try {
            await client.uploadFile(new File(["x"], "a.txt"), {
              endpoint: location.origin,
              token: chat.connectionToken,
              signal: controller.signal,
            });
            return "resolved";
          } catch (error) {
            return (error as Error).name;
          }
        }, stack.participantUrl);
        assert.equal(name, "AbortError");
        assert.equal(countAttachments(stack), before);
      });

      await t.step("a front end on another allowed origin uploads through CORS", async () => {
        const other = await browser.newPage();
        await other.goto(`${frontEnd}/`);
        await loadClient(other, worker.url);
        const sent = await other.evaluate(async ({ participantUrl, workerUrl }) => {
          const { client } = globalThis as unknown as { client: Client };
          const chat = await client.startChat(participantUrl);
          return await client.uploadFile(
            new File(["a,b\n"], "cors.csv", { type: "text/csv" }),
            {
              endpoint: workerUrl,
              token: chat.connectionToken,
            },
          );
        }, { participantUrl: stack.participantUrl, workerUrl: worker.url });
        assert.equal(sent.name, "cors.csv");
        assert.equal(
          sent.location,
          `${worker.url}/attachments/${encodeURIComponent(sent.attachmentId)}`,
        );
        await other.close();
      });

      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await browser.close();
      await worker.close();
      await elsewhere.shutdown();
      await stack.close();
    }
  },
});

function countAttachments(stack: LocalStack): number {
  return stack.service.store.attachments().length;
}
