import assert from "node:assert/strict";
import { defaultUploadHosts, isAllowedHost, parseHostPattern } from "../worker/hosts.ts";

const allowed = (url: string, patterns: string[]) => isAllowedHost(new URL(url), patterns);

Deno.test("the region's S3 hosts are allowed over https, and nothing else", () => {
  const hosts = defaultUploadHosts("us-west-2");
  assert.ok(allowed("https://bucket.s3.us-west-2.amazonaws.com/key?X-Amz-Signature=x", hosts));
  assert.ok(allowed("https://s3.us-west-2.amazonaws.com/bucket/key", hosts));
  assert.ok(allowed("https://b.s3.dualstack.us-west-2.amazonaws.com/k", hosts));
  assert.ok(!allowed("http://bucket.s3.us-west-2.amazonaws.com/key", hosts), "https only");
  assert.ok(!allowed("https://bucket.s3.us-east-1.amazonaws.com/key", hosts), "other region");
  assert.ok(!allowed("https://s3.us-west-2.amazonaws.com.evil.example/k", hosts));
  assert.ok(!allowed("https://evils3.us-west-2.amazonaws.com/k", hosts));
  assert.ok(!allowed("https://bucket.s3.us-west-2.amazonaws.com:8443/k", hosts), "other port");
  assert.ok(defaultUploadHosts("us-east-1").includes("*.s3.amazonaws.com"));
  assert.ok(defaultUploadHosts("cn-north-1")[0].endsWith(".amazonaws.com.cn"));
});

Deno.test("loopback hosts may use plain http; others need the scheme spelled out", () => {
  assert.ok(allowed("http://127.0.0.1:4568/b/k", ["127.0.0.1:4568"]));
  assert.ok(!allowed("http://127.0.0.1:4569/b/k", ["127.0.0.1:4568"]));
  assert.ok(!allowed("http://minio.internal:9000/b/k", ["minio.internal:9000"]));
  assert.ok(allowed("http://minio.internal:9000/b/k", ["http://minio.internal:9000"]));
  assert.ok(!allowed("https://minio.internal:9000/b/k", ["http://minio.internal:9000"]));
  assert.equal(typeof parseHostPattern("not a host"), "string");
  assert.equal(typeof parseHostPattern("*.s3.eu-west-1.amazonaws.com"), "object");
  assert.ok(!allowed("https://x.example/k", ["not a host"]), "a bad pattern matches nothing");
});
