import assert from "node:assert/strict";
import { ALLOWED_CONTENT_TYPES } from "../src/_core/limits.ts";
import {
  acceptedExtensions,
  resolveContentType,
  uploadRefusal,
} from "../src/_core/upload_rules.ts";

const limits = { maxBytes: 1000, allowedTypes: ALLOWED_CONTENT_TYPES };

Deno.test("resolveContentType keeps a declared type and infers a missing or generic one", () => {
  assert.equal(resolveContentType("a.pdf", "Application/PDF; x=y"), "application/pdf");
  assert.equal(resolveContentType("notes.TXT"), "text/plain");
  assert.equal(resolveContentType("scan.png", "application/octet-stream"), "image/png");
  assert.equal(resolveContentType("scan", ""), undefined);
  assert.equal(resolveContentType("page.html", "text/html"), "text/html");
});

Deno.test("uploadRefusal takes what the worker takes", () => {
  assert.equal(
    uploadRefusal({ name: "a.pdf", contentType: "application/pdf", size: 1000 }, limits),
    undefined,
  );
  assert.equal(
    uploadRefusal({ name: "a.csv", size: 1 }, { maxBytes: 10, allowedTypes: ["text/csv"] }),
    undefined,
  );
});

Deno.test("uploadRefusal checks name, then emptiness, then size, then type", () => {
  const code = (name: string, size: number, contentType?: string) =>
    uploadRefusal({ name, size, contentType }, limits)?.code;
  assert.equal(code("a/b.exe", 0), "invalid_name");
  assert.equal(code("a.exe", 0), "empty");
  assert.equal(code("a.exe", 1001), "too_large");
  assert.equal(code("a.exe", 10), "unsupported_type");
  assert.equal(code("a.txt", 10, "text/html"), "unsupported_type");
  assert.equal(code("a.txt", 10, "application/octet-stream"), undefined);
});

Deno.test("uploadRefusal messages say what is wrong", () => {
  const narrow = { maxBytes: 10, allowedTypes: ["application/pdf", "image/png"] };
  assert.equal(
    uploadRefusal({ name: "a.pdf", size: 1001 }, limits)?.message,
    "the file is 1001 bytes; the limit is 1000 bytes",
  );
  assert.equal(
    uploadRefusal({ name: "setup", size: 1 }, narrow)?.message,
    '"setup" does not end in an accepted extension; accepted: .pdf .png',
  );
  assert.equal(
    uploadRefusal({ name: "a.gif", contentType: "image/gif", size: 1 }, narrow)?.message,
    '"a.gif" does not end in an accepted extension; accepted: .pdf .png',
  );
  assert.equal(
    uploadRefusal({ name: "a.pdf", contentType: "text/html", size: 1 }, narrow)?.message,
    "text/html is not an accepted type; accepted: application/pdf, image/png",
  );
});

Deno.test("acceptedExtensions lists the extensions of the allowed types", () => {
  assert.equal(acceptedExtensions(["application/pdf", "image/jpeg"]), ".jfif .jpeg .jpg .pdf");
  assert.equal(acceptedExtensions([]), "");
});
