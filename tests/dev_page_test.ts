/// <reference lib="dom" />
/**
 * The development page in a real browser (headless Chromium) against the local stack and the
 * worker running in workerd.
 */

import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { armFault, clearFaults } from "../local/faults.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { createApp } from "../worker/app.ts";
import { ConfigError, parseConfig } from "../worker/config.ts";
import {
  type StartedWorker,
  startWorker,
  type StartWorkerOptions,
  type WorkerRuntime,
} from "../testing/worker.ts";
import {
  ignoreWithoutChromium,
  launchBrowser,
  type Page,
  type TestBrowser,
} from "../testing/browser.ts";
import { EICAR, randomBytes, sha256 } from "../testing/data.ts";
import { openRaw } from "../testing/raw_http.ts";
import { workerFetch } from "./_worker_contract.ts";

/** Where the screenshots go (gitignored). */
const ARTIFACTS_DIR = new URL("./artifacts/", import.meta.url);

const MB = 1024 * 1024;

/** A file of `size` bytes that starts like a PDF, written to `dir`. */
async function writePdf(dir: string, name: string, size: number, seed = 1): Promise<string> {
  const bytes = randomBytes(size, seed);
  bytes.set(new TextEncoder().encode("%PDF-1.7\n"));
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, bytes);
  return path;
}

async function openPage(browser: TestBrowser, url: string): Promise<Page> {
  const page = await browser.newPage();
  await page.goto(url);
  await page.waitForSelector("body[data-ready=true]");
  return page;
}

/**
 * The worker in workerd with the development page on, against the local stack.
 *
 * @param stack The local stack.
 * @param options Other worker options (limits, ...).
 */
function startPageWorker(
  stack: LocalStack,
  options: Partial<StartWorkerOptions> = {},
): Promise<StartedWorker> {
  return startWorker({
    runtime: "workerd",
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3.url).host],
    vars: { DEV_PAGE: "true" },
    ...options,
  });
}

/** What a page test stands on: the stack, the page's worker, Chromium on the page, a folder. */
interface PageRig {
  stack: LocalStack;
  worker: StartedWorker;
  browser: TestBrowser;
  /** The page, loaded and ready. */
  page: Page;
  /** A folder for the files the test picks or drops. */
  files: string;
  close(): Promise<void>;
}

/**
 * Starts the local stack (its scanner on where asked), the worker with the development page,
 * Chromium, and opens the page.
 *
 * @param scanning The local service's scanner. @default {off}
 */
async function startPageRig(scanning?: { delayMs: number }): Promise<PageRig> {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, scanning });
  const started: { worker?: StartedWorker; browser?: TestBrowser; files?: string } = {};
  const close = async () => {
    await started.browser?.close();
    await started.worker?.close();
    await stack.close();
    if (started.files) await Deno.remove(started.files, { recursive: true });
  };
  try {
    const worker = started.worker = await startPageWorker(stack);
    const browser = started.browser = await launchBrowser();
    const files = started.files = await Deno.makeTempDir({ prefix: "dev-page-files-" });
    const page = await openPage(browser, `${worker.url}/`);
    return { stack, worker, browser, files, page, close };
  } catch (error) {
    await close();
    throw error;
  }
}

async function startChatOn(page: Page): Promise<void> {
  await page.click("#start-chat");
  await page.waitForSelector("#chat-status[data-connected=true]");
}

/**
 * The worker's own answer to `PUT /attachments/{name}` announcing `size` bytes, as curl would
 * get it. Only the headers and `body` (if any) are sent: the worker refuses on those.
 */
async function askWorker(
  workerUrl: string,
  token: string,
  name: string,
  options: { size: number; contentType: string; body?: Uint8Array },
): Promise<{ status: number; code?: string; detail?: string }> {
  const exchange = await openRaw(`${workerUrl}/attachments/${encodeURIComponent(name)}`, {
    "X-Amz-Bearer": token,
    "Content-Type": options.contentType,
    "Content-Length": String(options.size),
  });
  try {
    if (options.body) await exchange.write(options.body);
    const answer = await exchange.answer;
    const body = JSON.parse(answer.text);
    return { status: answer.status, code: body.code, detail: body.detail };
  } finally {
    exchange.close();
  }
}

const LOCAL_ENV = { PARTICIPANT_ENDPOINT: "http://127.0.0.1:9", UPLOAD_HOSTS: "127.0.0.1:9" };

Deno.test("DEV_PAGE is off unless it is true; anything but true or false is an error", () => {
  assert.equal(parseConfig(LOCAL_ENV).devPage, false);
  assert.equal(parseConfig({ ...LOCAL_ENV, DEV_PAGE: "" }).devPage, false);
  assert.equal(parseConfig({ ...LOCAL_ENV, DEV_PAGE: "false" }).devPage, false);
  assert.equal(parseConfig({ ...LOCAL_ENV, DEV_PAGE: "TRUE" }).devPage, true);
  assert.throws(
    () => parseConfig({ ...LOCAL_ENV, DEV_PAGE: "yes" }),
    (error) => error instanceof ConfigError && /DEV_PAGE must be true or false/.test(error.message),
  );
});

Deno.test("an enabled page in a production build says which build carries it", async () => {
  const app = createApp(parseConfig({ ...LOCAL_ENV, DEV_PAGE: "true" }));
  const response = await app.fetch(new Request("http://worker.test/"));
  assert.equal(response.status, 500);
  const problem = await response.json();
  assert.equal(problem.code, "misconfigured");
  assert.match(problem.detail, /deno task start/);
});

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: the page is served only where DEV_PAGE=true`, async () => {
    const common = {
      runtime,
      participantUrl: "http://127.0.0.1:8788",
      uploadHosts: ["127.0.0.1:4568"],
      maxAttachmentBytes: 1234567,
      allowedTypes: ["pdf", "text/plain"],
    };
    const off = await startWorker(common);
    try {
      for (const path of ["/", "/dev/page.js", "/dev/browser.js", "/dev/config.json"]) {
        const response = await fetch(`${off.url}${path}`);
        assert.equal(response.status, 404, path);
        assert.equal((await response.json()).code, "not_found");
      }
    } finally {
      await off.close();
    }
    const on = await startWorker({ ...common, vars: { DEV_PAGE: "true" } });
    try {
      const page = await fetch(`${on.url}/`);
      assert.equal(page.status, 200);
      assert.match(page.headers.get("content-type")!, /^text\/html/);
      const csp = page.headers.get("content-security-policy")!;
      assert.match(csp, /script-src 'self'/);
      assert.match(csp, /connect-src 'self' http:\/\/127\.0\.0\.1:8788/);
      assert.match(await page.text(), /<script type="module" src="\/dev\/page\.js">/);
      for (const path of ["/dev/page.js", "/dev/browser.js"]) {
        const script = await fetch(`${on.url}${path}`);
        assert.match(script.headers.get("content-type")!, /^text\/javascript/, path);
        const source = await script.text();
        assert.ok(source.length > 1000, path);
        assert.doesNotMatch(source, /\binterface\s|: string\b/, `${path} is not plain JavaScript`);
      }
      const css = await fetch(`${on.url}/dev/page.css`);
      assert.match(css.headers.get("content-type")!, /^text\/css/);
      await css.body?.cancel();
      const config = await (await fetch(`${on.url}/dev/config.json`)).json();
      assert.deepEqual(config, { participantUrl: "http://127.0.0.1:8788" });
      // The limits come from the worker's API, as for any client.
      const policy = await (await workerFetch(`${on.url}/policy`)).json();
      assert.deepEqual(policy, { maxBytes: 1234567, allowedTypes: ["pdf", "text/plain"] });
      // The worker's API is there as ever.
      assert.equal((await (await workerFetch(`${on.url}/healthz`)).json()).status, "ok");
    } finally {
      await on.close();
    }
  });
}

/** Keeps a full-page screenshot in tests/artifacts/. */
async function screenshot(page: Page, name: string): Promise<void> {
  await Deno.mkdir(ARTIFACTS_DIR, { recursive: true });
  await page.screenshot({ path: new URL(name, ARTIFACTS_DIR).pathname, fullPage: true });
}

/** The names of the attachments in every chat's transcript, in order. */
function transcriptNames(stack: LocalStack): string[] {
  return [...stack.service.store.chats.values()].flatMap((chat) =>
    chat.items.flatMap((item) => (item.Attachments ?? []).map((a) => a.AttachmentName ?? ""))
  );
}

Deno.test({
  name: "dev page in Chromium",
  ignore: ignoreWithoutChromium("dev page browser tests"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const rig = await startPageRig();
    const { stack, worker, browser, files, page } = rig;
    const chats = () => [...stack.service.store.chats.values()];
    try {
      await t.step(
        "a 5 MB PDF uploads with progress to 100%, joins the chat and downloads identical",
        async () => {
          await startChatOn(page);
          await page.evaluate(() => {
            const seen: number[] = [];
            (globalThis as unknown as { seenPercents: number[] }).seenPercents = seen;
            new MutationObserver((records) => {
              for (const record of records) {
                const value = (record.target as HTMLElement).dataset.percent;
                if (value !== undefined) seen.push(Number(value));
              }
            }).observe(document.getElementById("uploads")!, {
              subtree: true,
              attributes: true,
              attributeFilter: ["data-percent"],
            });
          });
          const path = await writePdf(files, "quarterly-report.pdf", 5 * MB);
          await page.setInputFiles("#file-input", path);

          const row = page.locator('li.upload[data-name="quarterly-report.pdf"]');
          await row.and(page.locator("[data-state=done]")).waitFor();
          assert.equal(await row.getAttribute("data-percent"), "100");
          assert.match(
            await row.locator(".upload-bytes").innerText(),
            /5,242,880 of 5,242,880 bytes · 100%/,
          );
          const progress = await row.locator("progress").evaluate((
            p: HTMLProgressElement,
          ) => [p.value, p.max]);
          assert.deepEqual(progress, [5 * MB, 5 * MB]);
          const seen = await page.evaluate(() =>
            (globalThis as unknown as { seenPercents: number[] }).seenPercents
          );
          assert.ok(seen.length > 0, "no progress was shown");
          assert.equal(seen.at(-1), 100);
          assert.deepEqual(
            seen,
            [...seen].sort((a, b) => a - b),
            `progress went backwards: ${seen}`,
          );

          const item = page.locator("#transcript li", { hasText: "quarterly-report.pdf" });
          await item.waitFor();
          const [chat] = chats();
          const stored = [...chat.attachments.values()];
          assert.equal(stored.length, 1);
          assert.equal(stored[0].completed, true);
          assert.equal(stored[0].size, 5 * MB);
          assert.equal(await item.getAttribute("data-attachment-id"), stored[0].id);

          const [download] = await Promise.all([
            page.waitForEvent("download"),
            item.locator("a").click(),
          ]);
          assert.equal(download.suggestedFilename(), "quarterly-report.pdf");
          const downloaded = await Deno.readFile(await download.path());
          assert.equal(await sha256(downloaded), await sha256(await Deno.readFile(path)));
        },
      );

      await t.step(
        "files the instance refuses show the worker's answer, with the service's message: too big, wrong type",
        async () => {
          const before = chats()[0].attachments.size;
          // The worker's default policy lets both go; the instance (Amazon Connect's defaults:
          // 20 MB, no .gif) refuses them at StartAttachmentUpload.
          const big = await writePdf(files, "too-big.pdf", 20 * MB + 1, 2);
          const gif = `${files}/animation.gif`;
          await Deno.writeFile(gif, randomBytes(1000, 3));
          await page.setInputFiles("#file-input", [big, gif]);

          const bigRow = page.locator('li.upload[data-name="too-big.pdf"][data-state=refused]');
          const gifRow = page.locator('li.upload[data-name="animation.gif"][data-state=refused]');
          await bigRow.waitFor();
          await gifRow.waitFor();
          assert.equal(chats()[0].attachments.size, before, "a refused file joined the chat");

          // The very codes and messages the worker answers with for the same files.
          const { connectionToken } = await openChat(
            createParticipantClient({ endpoint: stack.participantUrl }),
          );
          const tooBig = await askWorker(worker.url, connectionToken, "too-big.pdf", {
            size: 20 * MB + 1,
            contentType: "application/pdf",
          });
          assert.equal(tooBig.status, 413);
          assert.match(tooBig.detail!, /accepts at most 20971520 bytes$/);
          assert.equal(await bigRow.getAttribute("data-code"), tooBig.code);
          assert.equal(await bigRow.locator(".upload-message").innerText(), tooBig.detail);
          const wrongType = await askWorker(worker.url, connectionToken, "animation.gif", {
            size: 1000,
            contentType: "image/gif",
            body: randomBytes(1000, 3),
          });
          assert.equal(wrongType.status, 415);
          assert.match(wrongType.detail!, /The extension \.gif is not allowed/);
          assert.equal(await gifRow.getAttribute("data-code"), wrongType.code);
          assert.equal(await gifRow.locator(".upload-message").innerText(), wrongType.detail);
          assert.equal(await gifRow.getByRole("button", { name: "Retry" }).count(), 0);
        },
      );

      await t.step(
        "with a policy (MAX_ATTACHMENT_BYTES, ALLOWED_TYPES), the page learns it and refuses before upload",
        async () => {
          const strict = await startPageWorker(stack, {
            maxAttachmentBytes: MB,
            allowedTypes: ["pdf", "text/plain"],
          });
          try {
            const strictPage = await openPage(browser, `${strict.url}/`);
            assert.equal(
              await strictPage.locator("#limits").innerText(),
              "Up to 1.0 MB (1,048,576 bytes) each, within the instance's own limit. Types: .pdf .txt",
            );
            assert.equal(
              await strictPage.locator("#file-input").getAttribute("accept"),
              ".pdf,.txt,text/plain",
            );
            let puts = 0;
            strictPage.on("request", (request) => {
              if (new URL(request.url()).pathname.startsWith("/attachments/")) puts++;
            });
            await startChatOn(strictPage);
            const big = await writePdf(files, "big.pdf", MB + 1, 5);
            const gif = `${files}/animation.gif`;
            await strictPage.setInputFiles("#file-input", [big, gif]);
            const bigRow = strictPage.locator('li.upload[data-name="big.pdf"][data-state=refused]');
            const gifRow = strictPage.locator(
              'li.upload[data-name="animation.gif"][data-state=refused]',
            );
            await bigRow.waitFor();
            await gifRow.waitFor();
            assert.equal(await bigRow.getAttribute("data-code"), "too_large");
            assert.equal(
              await bigRow.locator(".upload-message").innerText(),
              "the file is 1048577 bytes; the limit is 1048576 bytes",
            );
            assert.equal(await gifRow.getAttribute("data-code"), "unsupported_type");
            assert.equal(
              await gifRow.locator(".upload-message").innerText(),
              '"animation.gif" does not end in an accepted extension; accepted: .pdf .txt',
            );
            assert.equal(puts, 0, "a file sure to be refused was sent");
            await strictPage.close();
          } finally {
            await strict.close();
          }
        },
      );

      await t.step("files dropped on the drop zone upload too", async () => {
        const dataTransfer = await page.evaluateHandle(() => {
          const transfer = new DataTransfer();
          transfer.items.add(new File(["id,total\n1,9.99\n"], "order.csv", { type: "text/csv" }));
          return transfer;
        });
        await page.dispatchEvent("#drop-zone", "dragover", { dataTransfer });
        assert.equal(await page.getAttribute("#drop-zone", "data-over"), "true");
        await page.dispatchEvent("#drop-zone", "drop", { dataTransfer });
        await page.locator('li.upload[data-name="order.csv"][data-state=done]').waitFor();
        await page.locator("#transcript li", { hasText: "order.csv" }).waitFor();
      });

      await t.step(
        "a failed upload shows the worker's message and is retried with the same key",
        async () => {
          const keys: string[] = [];
          page.on("request", (request) => {
            if (
              request.method() === "PUT" &&
              new URL(request.url()).pathname.startsWith("/attachments/")
            ) {
              keys.push(request.headers()["idempotency-key"]);
            }
          });
          // Every CompleteAttachmentUpload fails until the fault is lifted.
          await armFault(stack.participantUrl, {
            operation: "CompleteAttachmentUpload",
            kind: "error",
            rate: 1,
          });
          const notes = `${files}/notes.txt`;
          await Deno.writeTextFile(notes, "Order 1234: the parcel arrived damaged.\n");
          await page.setInputFiles("#file-input", notes);

          const row = page.locator('li.upload[data-name="notes.txt"]');
          await row.and(page.locator("[data-state=failed]")).waitFor();
          const message = await row.locator(".upload-message").innerText();
          assert.match(message, /CompleteAttachmentUpload|InternalServer/);
          assert.equal(transcriptNames(stack).filter((n) => n === "notes.txt").length, 0);
          await screenshot(page, "dev-page-failed.png");

          await clearFaults(stack.participantUrl);
          await row.getByRole("button", { name: "Retry notes.txt" }).click();
          await row.and(page.locator("[data-state=done]")).waitFor();
          await page.locator("#transcript li", { hasText: "notes.txt" }).waitFor();
          // Focus follows the retried file to its place in the transcript.
          assert.equal(await page.evaluate(() => document.activeElement?.textContent), "notes.txt");

          assert.equal(keys.length, 2, `PUTs seen: ${keys.length}`);
          assert.ok(keys[0]);
          assert.equal(keys[1], keys[0]);
          const stored = [...chats()[0].attachments.values()].filter((a) => a.name === "notes.txt");
          assert.equal(stored.length, 1, "the retry made a second attachment");
          assert.equal(transcriptNames(stack).filter((n) => n === "notes.txt").length, 1);
          await screenshot(page, "dev-page.png");
        },
      );

      await t.step("keyboard only: start a chat, pick a file, download it", async () => {
        const fresh = await openPage(browser, `${worker.url}/`);
        const focused = () =>
          fresh.evaluate(() => document.activeElement?.id || document.activeElement?.textContent);
        await fresh.keyboard.press("Tab"); // the skip link
        await fresh.keyboard.press("Tab");
        assert.equal(await focused(), "display-name");
        await fresh.keyboard.press("Tab");
        assert.equal(await focused(), "start-chat");
        await fresh.keyboard.press("Enter");
        await fresh.waitForSelector("#chat-status[data-connected=true]");
        // Focus moves on to the file picker, which the keyboard opens.
        assert.equal(await focused(), "file-input");
        const path = await writePdf(files, "keyboard.pdf", 64 * 1024, 4);
        // Headless Chromium now and then drops the first key press on a freshly focused file
        // input; a person would press again, and so does the test (three times at most).
        let chooser;
        for (let press = 0; press < 3 && !chooser; press++) {
          [chooser] = await Promise.all([
            fresh.waitForEvent("filechooser", { timeout: 5_000 }).catch(() => undefined),
            fresh.keyboard.press("Enter"),
          ]);
        }
        assert.ok(chooser, "Enter on the file picker never opened the file chooser");
        assert.equal(chooser.isMultiple(), true);
        await chooser.setFiles(path);
        await fresh.locator('li.upload[data-name="keyboard.pdf"][data-state=done]').waitFor();
        await fresh.locator("#transcript li", { hasText: "keyboard.pdf" }).waitFor();
        await fresh.keyboard.press("Tab");
        assert.equal(await focused(), "keyboard.pdf");
        const [download] = await Promise.all([
          fresh.waitForEvent("download"),
          fresh.keyboard.press("Enter"),
        ]);
        assert.equal(
          await sha256(await Deno.readFile(await download.path())),
          await sha256(await Deno.readFile(path)),
        );
        assert.match(await fresh.locator("#announcer").innerText(), /keyboard\.pdf downloaded/);
        await fresh.close();
      });

      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await rig.close();
    }
  },
});

Deno.test({
  name: "dev page in Chromium with the chat's scanner on: scanning, then approved or rejected",
  ignore: ignoreWithoutChromium("dev page browser tests"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn() {
    const rig = await startPageRig({ delayMs: 1_500 });
    const { browser, files, page } = rig;
    try {
      await startChatOn(page);
      // Every state each row goes through, in order.
      await page.evaluate(() => {
        const seen: Record<string, string[]> = {};
        (globalThis as unknown as { seenStates: typeof seen }).seenStates = seen;
        new MutationObserver((records) => {
          for (const record of records) {
            const row = record.target as HTMLElement;
            const name = row.dataset.name;
            if (!name || !row.dataset.state) continue;
            const states = seen[name] ??= [];
            if (states.at(-1) !== row.dataset.state) states.push(row.dataset.state);
          }
        }).observe(document.getElementById("uploads")!, {
          subtree: true,
          attributes: true,
          attributeFilter: ["data-state"],
        });
      });
      const clean = await writePdf(files, "statement.pdf", 200 * 1024, 5);
      const infected = `${files}/eicar.txt`;
      await Deno.writeTextFile(infected, EICAR);
      await page.setInputFiles("#file-input", [clean, infected]);

      const approved = page.locator('li.upload[data-name="statement.pdf"][data-state=done]');
      await approved.waitFor();
      assert.equal(await approved.getAttribute("data-scan"), "APPROVED");
      assert.equal(await approved.locator(".upload-state").innerText(), "Approved");
      const rejected = page.locator('li.upload[data-name="eicar.txt"][data-state=rejected]');
      await rejected.waitFor();
      assert.equal(await rejected.getAttribute("data-code"), "attachment_rejected");
      assert.match(await rejected.locator(".upload-message").innerText(), /scanner rejected/);
      assert.equal(await rejected.getByRole("button", { name: /Retry/ }).count(), 0);
      const states = await page.evaluate(() =>
        (globalThis as unknown as { seenStates: Record<string, string[]> }).seenStates
      );
      assert.deepEqual(states["statement.pdf"].slice(-2), ["scanning", "done"]);
      assert.deepEqual(states["eicar.txt"].slice(-2), ["scanning", "rejected"]);

      // The transcript shows both; the rejected file (deleted) has no download link.
      const rejectedItem = page.locator("#transcript li", { hasText: "eicar.txt" });
      await rejectedItem.locator(".meta", { hasText: "rejected" }).waitFor();
      assert.equal(await rejectedItem.locator("a").count(), 0);
      const approvedItem = page.locator("#transcript li", { hasText: "statement.pdf" });
      await approvedItem.locator(".meta", { hasText: "approved" }).waitFor();
      assert.equal(await approvedItem.locator("a").count(), 1);
      await screenshot(page, "dev-page-scanning.png");
      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await rig.close();
    }
  },
});
