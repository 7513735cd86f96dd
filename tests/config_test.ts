import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../worker/config.ts";
import { CONNECT_MAX_ATTACHMENT_BYTES } from "./_connect_limits.ts";

Deno.test("parseConfig: a region alone is a working configuration", () => {
  const config = parseConfig({ AWS_REGION: "eu-west-2" });
  assert.equal(config.participantEndpoint, "https://participant.connect.eu-west-2.amazonaws.com");
  // Amazon Connect's bound, and no list of types: the instance decides the rest.
  assert.equal(config.maxAttachmentBytes, CONNECT_MAX_ATTACHMENT_BYTES);
  assert.equal(config.allowedTypes, undefined);
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
  assert.deepEqual(config.allowedTypes, ["pdf", "png", "text/csv"]);
  assert.deepEqual(config.corsOrigins, ["https://app.example", "http://localhost:3000"]);
  assert.deepEqual(config.uploadHosts, ["127.0.0.1:4568"]);
});

Deno.test("parseConfig: every problem is reported at once", () => {
  assert.throws(
    () =>
      parseConfig({
        PARTICIPANT_ENDPOINT: "ftp://x",
        MAX_ATTACHMENT_BYTES: "20MB",
        ALLOWED_TYPES: "exe,p.d.f",
        CORS_ORIGINS: "app.example",
        UPLOAD_HOSTS: "https://bad host/",
      }),
    (error) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.problems.length, 5, error.message);
      assert.match(error.message, /PARTICIPANT_ENDPOINT/);
      assert.match(error.message, /MAX_ATTACHMENT_BYTES/);
      assert.match(error.message, /ALLOWED_TYPES: p\.d\.f is neither/);
      assert.doesNotMatch(error.message, /ALLOWED_TYPES: exe/, "any extension may be listed");
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

Deno.test("parseConfig: MAX_ATTACHMENT_BYTES goes up to Amazon Connect's 100 MB against AWS, beyond it only against another service", () => {
  const aws = [
    { AWS_REGION: "eu-west-2" },
    {
      PARTICIPANT_ENDPOINT: "https://participant.connect.us-east-1.amazonaws.com",
      AWS_REGION: "us-east-1",
    },
    {
      PARTICIPANT_ENDPOINT: "https://participant.connect.cn-north-1.amazonaws.com.cn",
      AWS_REGION: "cn-north-1",
    },
  ];
  for (const env of aws) {
    assert.equal(
      parseConfig({ ...env, MAX_ATTACHMENT_BYTES: "104857600" }).maxAttachmentBytes,
      104_857_600,
    );
    assert.throws(
      () => parseConfig({ ...env, MAX_ATTACHMENT_BYTES: "104857601" }),
      /MAX_ATTACHMENT_BYTES must be a whole number of bytes from 1 to 104857600 \(Amazon Connect's bound\), got 104857601/,
      JSON.stringify(env),
    );
  }
  // The local stack (any endpoint outside AWS) sets its own bound: 1 GB for the benchmarks.
  const local = { PARTICIPANT_ENDPOINT: "http://127.0.0.1:8788", UPLOAD_HOSTS: "127.0.0.1:4568" };
  assert.equal(
    parseConfig({ ...local, MAX_ATTACHMENT_BYTES: "1073741824" }).maxAttachmentBytes,
    1_073_741_824,
  );
  assert.equal(parseConfig(local).maxAttachmentBytes, 104_857_600);
  // Narrower than Amazon Connect's is a policy anywhere.
  assert.equal(
    parseConfig({ AWS_REGION: "eu-west-2", MAX_ATTACHMENT_BYTES: "1000" }).maxAttachmentBytes,
    1000,
  );
  for (const bad of ["0", "-1", "1e6", "20MB"]) {
    assert.throws(
      () => parseConfig({ ...local, MAX_ATTACHMENT_BYTES: bad }),
      new RegExp(`MAX_ATTACHMENT_BYTES must be a whole number of bytes ≥ 1, got ${bad}`),
    );
  }
});

Deno.test("parseConfig: ALLOWED_TYPES widens as well as narrows: any extension, MIME types with a known extension", () => {
  const env = { AWS_REGION: "eu-west-2" };
  assert.deepEqual(
    parseConfig({ ...env, ALLOWED_TYPES: "zip, .7Z, log,application/PDF, audio/vnd.wave" })
      .allowedTypes,
    ["zip", "7z", "log", "application/pdf", "audio/vnd.wave"],
  );
  assert.throws(
    () => parseConfig({ ...env, ALLOWED_TYPES: "application/x-unheard-of" }),
    /ALLOWED_TYPES: application\/x-unheard-of is neither an extension .* nor a known MIME type/,
  );
  assert.throws(
    () => parseConfig({ ...env, ALLOWED_TYPES: "abcdefghijk" }),
    /ALLOWED_TYPES: abcdefghijk is neither an extension \(such as \.pdf: 1 to 10 letters, digits, - or _\) nor a known MIME type/,
  );
  assert.equal(parseConfig({ ...env, ALLOWED_TYPES: " , " }).allowedTypes, undefined);
});
