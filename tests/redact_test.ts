import assert from "node:assert/strict";
import fc from "fast-check";
import { describeError, redactSecrets } from "../worker/redact.ts";
import { presignObject } from "../local/presign.ts";
import { LOCAL_S3_CREDENTIALS } from "../local/s3.ts";

Deno.test("redactSecrets removes pre-signed queries, signatures, bearer tokens and given secrets", async () => {
  const signed = await presignObject(
    { url: "http://127.0.0.1:4568", bucket: "b", ...LOCAL_S3_CREDENTIALS },
    "PUT",
    "chat/att",
    { "Content-Type": "application/pdf" },
    60,
  );
  const signature = new URL(signed.url).searchParams.get("X-Amz-Signature")!;
  const token = "tok_" + "x".repeat(40);
  const text = [
    `error sending request for url (${signed.url})`,
    `X-Amz-Signature=${signature}&X-Amz-Credential=S3RVER%2F20261127`,
    `Authorization: Bearer ${token}`,
    `{"X-Amz-Bearer": "${token}"}`,
    `token ${token} seen`,
  ].join("\n");
  const safe = redactSecrets(text, [token]);
  assert.ok(!safe.includes(signature), safe);
  assert.ok(!safe.includes(token), safe);
  assert.ok(!safe.includes("S3RVER%2F"), safe);
  assert.match(safe, /http:\/\/127\.0\.0\.1:4568\/b\/chat\/att\?\[redacted\]/);
});

Deno.test("redactSecrets never lets a token or a signature through, whatever surrounds it", () => {
  const secret = fc.stringMatching(/^[A-Za-z0-9_-]{16,64}$/);
  const noise = fc.string({ maxLength: 40 });
  fc.assert(
    fc.property(secret, secret, noise, noise, (token, signature, before, after) => {
      const line = `${before}https://s3.example/k?X-Amz-Signature=${signature}${after} ${token}`;
      const safe = redactSecrets(line, [token]);
      return !safe.includes(signature) && !safe.includes(token);
    }),
    { numRuns: 200 },
  );
});

Deno.test("describeError follows causes and redacts them", () => {
  const cause = new TypeError(
    "error sending request for url (http://127.0.0.1:1/b/k?X-Amz-Signature=abcdef0123)",
  );
  const line = describeError(new Error("upload failed", { cause }));
  assert.equal(
    line,
    "upload failed: error sending request for url (http://127.0.0.1:1/b/k?[redacted])",
  );
});
