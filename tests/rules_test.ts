/**
 * The attachment rules: one order (name, emptiness, size, extension, type) and one set of
 * messages, and the same answer for the same file from every way in: the library's
 * `uploadAttachment`, the worker over HTTP, and the browser client's `checkFile`. Every
 * expected code and message is written here.
 *
 * @module
 */

import assert from "node:assert/strict";
import { checkFile } from "../src/browser.ts";
import { AttachmentError, uploadAttachment } from "../src/mod.ts";
import { acceptedExtensions, checkAttachment, resolveContentType } from "../src/_core/rules.ts";
import { createApp } from "../worker/app.ts";
import { parseConfig } from "../worker/config.ts";
import { ACCEPTED_TYPE_ALIASES, ACCEPTED_TYPES } from "./_connect_limits.ts";

const policy = { maxBytes: 1000, allowedTypes: [...ACCEPTED_TYPES, ...ACCEPTED_TYPE_ALIASES] };

Deno.test("resolveContentType keeps a declared type and infers a missing or generic one", () => {
  assert.equal(resolveContentType("a.pdf", "Application/PDF; x=y"), "application/pdf");
  assert.equal(resolveContentType("notes.TXT"), "text/plain");
  assert.equal(resolveContentType("scan.png", "application/octet-stream"), "image/png");
  assert.equal(resolveContentType("scan", ""), undefined);
  assert.equal(resolveContentType("page.html", "text/html"), "text/html");
});

Deno.test("checkAttachment takes what Amazon Connect takes", () => {
  assert.equal(
    checkAttachment({ name: "a.pdf", contentType: "application/pdf", size: 1000 }, policy),
    undefined,
  );
  assert.equal(
    checkAttachment({ name: "a.csv", size: 1 }, { maxBytes: 10, allowedTypes: ["text/csv"] }),
    undefined,
  );
  assert.equal(
    checkAttachment({ name: "a.txt", size: 10, contentType: "application/octet-stream" }, policy),
    undefined,
  );
  // The defaults: 20 MB and the accepted types.
  assert.equal(checkAttachment({ name: "a.pdf", size: 20 * 1024 * 1024 }), undefined);
  assert.equal(checkAttachment({ name: "a.pdf", size: 20 * 1024 * 1024 + 1 })?.code, "too_large");
});

Deno.test("checkAttachment checks name, then emptiness, then size, then extension, then type", () => {
  const code = (name: string, size: number, contentType?: string) =>
    checkAttachment({ name, size, contentType }, policy)?.code;
  assert.equal(code("a/b.exe", 0), "invalid_name");
  assert.equal(code("a.exe", 0), "empty");
  assert.equal(code("a.exe", 1001), "too_large");
  assert.equal(code("a.exe", 10), "unsupported_type");
  assert.equal(code("a.txt", 10, "text/html"), "unsupported_type");
});

Deno.test("checkAttachment's messages say what is wrong", () => {
  const narrow = { maxBytes: 10, allowedTypes: ["application/pdf", "image/png"] };
  const message = (name: string, size: number, contentType?: string, limits = narrow) =>
    checkAttachment({ name, size, contentType }, limits)?.message;
  assert.equal(message("", 1), "the name is empty: give one, such as report.pdf");
  assert.equal(message("a.pdf", 0), "the file is empty; attachments need at least 1 byte");
  assert.equal(
    message("a.pdf", 1001, undefined, policy),
    "the file is 1001 bytes; the limit is 1000 bytes",
  );
  assert.equal(
    message("setup", 1),
    '"setup" does not end in an accepted extension; accepted: .pdf .png',
  );
  assert.equal(
    message("a.gif", 1, "image/gif"),
    '"a.gif" does not end in an accepted extension; accepted: .pdf .png',
  );
  assert.equal(
    message("a.pdf", 1, "text/html"),
    "text/html is not an accepted type; accepted: application/pdf, image/png",
  );
});

Deno.test("acceptedExtensions lists the extensions of the allowed types", () => {
  assert.equal(acceptedExtensions(["application/pdf", "image/jpeg"]), ".jfif .jpeg .jpg .pdf");
  assert.equal(acceptedExtensions([]), "");
});

/** Files that break one rule or more, and the one code each must get, whichever way it goes. */
const REFUSED: [name: string, size: number, contentType: string | undefined, code: string][] = [
  ["setup.exe", 0, undefined, "empty"],
  ["report.pdf", 0, "application/pdf", "empty"],
  ["setup.exe", 2000, undefined, "too_large"],
  ["report.pdf", 2000, "application/pdf", "too_large"],
  ["setup.exe", 10, undefined, "unsupported_type"],
  ["notes", 10, "text/plain", "unsupported_type"],
  ["page.pdf", 10, "text/html", "unsupported_type"],
  ["a/b.pdf", 0, undefined, "invalid_name"],
  ["a\\b.exe", 2000, undefined, "invalid_name"],
  ["invoice\u202efdp.exe", 0, undefined, "invalid_name"],
];

Deno.test("the library, the worker and the browser client refuse the same file with the same code", async () => {
  let upstreamCalls = 0;
  const quiet = { hostname: "127.0.0.1", port: 0, onListen: () => {} };
  const service = Deno.serve(quiet, () => {
    upstreamCalls++;
    return new Response("{}", { status: 500 });
  });
  const endpoint = `http://127.0.0.1:${service.addr.port}`;
  const app = createApp(parseConfig({
    PARTICIPANT_ENDPOINT: endpoint,
    UPLOAD_HOSTS: "127.0.0.1",
    MAX_ATTACHMENT_BYTES: String(policy.maxBytes),
  }));
  const worker = Deno.serve(quiet, app.fetch);
  try {
    for (const [name, size, contentType, code] of REFUSED) {
      const what = `${JSON.stringify(name)} (${size} bytes, ${contentType ?? "no type"})`;
      const library = await uploadAttachment({
        endpoint,
        connectionToken: "token",
        file: new Uint8Array(size),
        name,
        contentType,
        maxBytes: policy.maxBytes,
      }).catch((error) => error);
      assert.ok(library instanceof AttachmentError, `${what}: ${library}`);
      assert.equal(library.code, code, `library, ${what}: ${library.message}`);

      const answer = await fetch(
        `http://127.0.0.1:${worker.addr.port}/attachments/${encodeURIComponent(name)}`,
        {
          method: "PUT",
          headers: {
            "x-amz-bearer": "token",
            ...(contentType ? { "content-type": contentType } : {}),
          },
          body: new Uint8Array(size),
        },
      );
      const problem = await answer.json();
      assert.equal(problem.code, code, `worker, ${what}: ${problem.detail}`);
      assert.equal(problem.detail, library.message, `the same message, ${what}`);

      const browser = checkFile({ name, type: contentType ?? "", size }, policy);
      assert.equal(browser?.code, code, `browser client, ${what}`);
      assert.equal(browser?.message, library.message, `the same message, ${what}`);
    }
    assert.equal(upstreamCalls, 0, "no refused file reaches the service");
  } finally {
    await worker.shutdown();
    await service.shutdown();
  }
});
