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
import {
  acceptedExtensions,
  type AttachmentPolicy,
  checkAttachment,
  resolveContentType,
} from "../src/_core/rules.ts";
import { createApp } from "../worker/app.ts";
import { parseConfig } from "../worker/config.ts";
import { ACCEPTED_TYPE_ALIASES, ACCEPTED_TYPES } from "./_connect_limits.ts";

const policy = { maxBytes: 1000, allowedTypes: [...ACCEPTED_TYPES, ...ACCEPTED_TYPE_ALIASES] };

Deno.test("resolveContentType keeps a declared type and infers a missing or generic one", () => {
  assert.equal(resolveContentType("a.pdf", "Application/PDF; x=y"), "application/pdf");
  assert.equal(resolveContentType("notes.TXT"), "text/plain");
  assert.equal(resolveContentType("scan.png", "application/octet-stream"), "image/png");
  assert.equal(resolveContentType("backup.zip", ""), "application/zip");
  assert.equal(resolveContentType("scan", ""), "application/octet-stream");
  assert.equal(resolveContentType("data.parquet", ""), "application/octet-stream");
  assert.equal(resolveContentType("page.html", "text/html"), "text/html");
});

Deno.test("by default the rules hold a file only to what every instance requires", () => {
  const code = (name: string, size: number, contentType?: string) =>
    checkAttachment({ name, size, contentType })?.code;
  // Up to Amazon Connect's bound of 100 MB; the instance's own limit is the service's to apply.
  assert.equal(code("a.pdf", 104_857_600), undefined);
  assert.equal(code("a.pdf", 104_857_601), "too_large");
  assert.equal(code("a.pdf", 30_000_000), undefined);
  // Any extension of 1 to 10 letters, digits, - or _: the instance decides which it allows.
  for (const name of ["backup.zip", "setup.exe", "a.b-c_D9", "x.abcdefghij", "archive.tar.gz"]) {
    assert.equal(code(name, 10), undefined, name);
  }
  for (const name of ["notes", "x.abcdefghijk", "a.p+f", "a.pdf (1)", ".", "x.é"]) {
    assert.notEqual(code(name, 10), undefined, name);
  }
  // Any media type; one that is none is refused.
  assert.equal(code("a.pdf", 10, "text/html"), undefined);
  assert.equal(code("a.wav", 10, "audio/vnd.wave"), undefined);
  assert.equal(code("a.pdf", 10, "PDF"), "unsupported_type");
  assert.equal(code("a.pdf", 10, "*/*"), "unsupported_type");
  assert.equal(code("a.pdf", 10, "text/"), "unsupported_type");
  // A name that ends in white space or a dot.
  assert.equal(code("x.txt  ", 10), "invalid_name");
  assert.equal(code("x.txt\u00a0", 10), "invalid_name");
  assert.equal(code("x.pdf.", 10), "invalid_name");
  assert.equal(code("  leading.pdf", 10), undefined);
});

Deno.test("a policy narrows and widens: the types and extensions listed, the size given", () => {
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
  // The MIME aliases AWS's chat widget sends.
  for (
    const [name, type] of [
      ["a.wav", "audio/vnd.wave"],
      ["a.wav", "audio/x-wav"],
      ["a.rtf", "application/x-rtf"],
      ["a.rtf", "text/richtext"],
    ]
  ) {
    assert.equal(checkAttachment({ name, size: 1, contentType: type }, policy), undefined, type);
    assert.equal(
      checkAttachment({ name, size: 1, contentType: type }, { allowedTypes: [name.slice(2)] }),
      undefined,
      `${type} for the extension ${name.slice(2)}`,
    );
  }
  // Wider than Amazon Connect's defaults: any extension, with its type where one is known.
  const zips = { allowedTypes: ["zip", "application/pdf", ".LOG", "foo"] };
  const code = (name: string, contentType?: string) =>
    checkAttachment({ name, size: 1, contentType }, zips)?.code;
  assert.equal(code("backup.ZIP"), undefined);
  assert.equal(code("backup.zip", "application/x-zip-compressed"), undefined);
  assert.equal(code("backup.zip", "text/html"), "unsupported_type");
  assert.equal(code("server.log", "text/plain"), undefined);
  assert.equal(code("a.foo", "application/x-foo"), undefined, "an extension without a known type");
  assert.equal(code("a.pdf"), undefined);
  assert.equal(code("a.png"), "unsupported_type");
  assert.equal(code("a.txt"), "unsupported_type");
  assert.equal(checkAttachment({ name: "a.pdf", size: 11 }, { maxBytes: 10 })?.code, "too_large");
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
  const message = (
    name: string,
    size: number,
    contentType?: string,
    limits: AttachmentPolicy = narrow,
  ) => checkAttachment({ name, size, contentType }, limits)?.message;
  assert.equal(message("", 1), "the name is empty: give one, such as report.pdf");
  assert.equal(message("a.pdf", 0), "the file is empty; attachments need at least 1 byte");
  assert.equal(
    message("a.pdf", 1001, undefined, policy),
    "the file is 1001 bytes; the limit is 1000 bytes",
  );
  assert.equal(
    message("a.pdf", 104_857_601, undefined, {}),
    "the file is 104857601 bytes; the limit is 104857600 bytes",
  );
  assert.equal(
    message("setup", 1),
    '"setup" does not end in an extension (such as .pdf: 1 to 10 letters, digits, - or _)',
  );
  assert.equal(
    message("a.gif", 1, "image/gif"),
    '"a.gif" does not end in an accepted extension; accepted: .pdf .png',
  );
  assert.equal(
    message("a.pdf", 1, "text/html"),
    "text/html is not an accepted type; accepted: application/pdf, image/png",
  );
  assert.equal(message("a.pdf", 1, "PDF", {}), '"pdf" is not a media type such as application/pdf');
  assert.equal(
    message("x.txt  ", 1),
    'the name "x.txt  " ends in white space or a dot; remove them',
  );
});

Deno.test("acceptedExtensions lists the extensions of the allowed types and extensions", () => {
  assert.equal(acceptedExtensions(["application/pdf", "image/jpeg"]), ".jfif .jpeg .jpg .pdf");
  assert.equal(acceptedExtensions(["zip", ".LOG", "audio/vnd.wave"]), ".log .wav .zip");
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
  ["x.txt  ", 10, undefined, "invalid_name"],
  ["report.pdf", 10, "PDF", "unsupported_type"],
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
    ALLOWED_TYPES: policy.allowedTypes.join(","),
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
        allowedTypes: policy.allowedTypes,
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
