import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../worker/config.ts";
import { DEFAULT_MAX_ATTACHMENT_BYTES } from "./_connect_limits.ts";

Deno.test("parseConfig: a region alone is a working configuration", () => {
  const config = parseConfig({ AWS_REGION: "eu-west-2" });
  assert.equal(config.participantEndpoint, "https://participant.connect.eu-west-2.amazonaws.com");
  assert.equal(config.maxAttachmentBytes, DEFAULT_MAX_ATTACHMENT_BYTES);
  assert.ok(config.allowedTypes.has("application/pdf"));
  assert.deepEqual(config.corsOrigins, []);
  assert.ok(config.uploadHosts.includes("*.s3.eu-west-2.amazonaws.com"));
});

Deno.test("parseConfig: endpoint, limit, types, origins and hosts; empty values are unset", () => {
  const config = parseConfig({
    AWS_REGION: "",
    PARTICIPANT_ENDPOINT: "http://127.0.0.1:8788/",
    MAX_ATTACHMENT_BYTES: "209715200",
    ALLOWED_TYPES: "pdf, .PNG, text/csv",
    CORS_ORIGINS: "https://app.example, http://localhost:3000/",
    UPLOAD_HOSTS: "127.0.0.1:4568",
    UNRELATED: 42,
  });
  assert.equal(config.participantEndpoint, "http://127.0.0.1:8788");
  assert.equal(config.maxAttachmentBytes, 209_715_200);
  assert.deepEqual([...config.allowedTypes], ["application/pdf", "image/png", "text/csv"]);
  assert.deepEqual(config.corsOrigins, ["https://app.example", "http://localhost:3000"]);
  assert.deepEqual(config.uploadHosts, ["127.0.0.1:4568"]);
});

Deno.test("parseConfig: every problem is reported at once", () => {
  assert.throws(
    () =>
      parseConfig({
        PARTICIPANT_ENDPOINT: "ftp://x",
        MAX_ATTACHMENT_BYTES: "20MB",
        ALLOWED_TYPES: "exe",
        CORS_ORIGINS: "app.example",
        UPLOAD_HOSTS: "https://bad host/",
      }),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 5, error.message);
      assert.match(error.message, /PARTICIPANT_ENDPOINT/);
      assert.match(error.message, /MAX_ATTACHMENT_BYTES/);
      assert.match(error.message, /ALLOWED_TYPES: exe/);
      assert.match(error.message, /CORS_ORIGINS: app\.example/);
      assert.match(error.message, /UPLOAD_HOSTS/);
      return true;
    },
  );
  assert.throws(() => parseConfig({}), /AWS_REGION .* or PARTICIPANT_ENDPOINT/);
  // An endpoint without a region has no default S3 hosts: they must be named.
  assert.throws(
    () => parseConfig({ PARTICIPANT_ENDPOINT: "http://127.0.0.1:8788" }),
    /UPLOAD_HOSTS/,
  );
  assert.throws(() => parseConfig({ AWS_REGION: "moon-1" }), /AWS_REGION/);
});
