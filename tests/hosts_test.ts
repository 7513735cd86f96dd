import assert from "node:assert/strict";
import { ConfigError, parseConfig } from "../worker/config.ts";
import { isAllowedHost, parseHostPattern } from "../worker/hosts.ts";

const allowed = (url: string, patterns: string[]) => isAllowedHost(new URL(url), patterns);

/** The upload hosts the worker gets from `AWS_REGION` alone, as it is deployed. */
const hostsOf = (region: string) => parseConfig({ AWS_REGION: region }).uploadHosts as string[];

/**
 * Pre-signed URL shapes, by the region the worker is configured for, each with the answer the
 * default allow list must give. `true`: a form AWS documents for that region's S3 (Amazon S3
 * endpoints and quotas; Virtual hosting of buckets; GovCloud's S3 page; the SDKs' S3 endpoint
 * rules). `false`: anything else, lookalikes first.
 */
const TABLE: Record<string, [url: string, expected: boolean][]> = {
  "eu-west-2": [
    // Regional, both styles; bucket names may hold dots and dashes.
    ["https://bucket.s3.eu-west-2.amazonaws.com/key?X-Amz-Signature=x", true],
    ["https://s3.eu-west-2.amazonaws.com/bucket/key", true],
    ["https://my.dotted.bucket.s3.eu-west-2.amazonaws.com/key", true],
    ["https://my-bucket-1.s3.eu-west-2.amazonaws.com/key", true],
    ["https://BUCKET.S3.EU-WEST-2.AMAZONAWS.COM/key", true],
    ["https://bucket.s3.eu-west-2.amazonaws.com:443/key", true],
    // The legacy dash form, both styles.
    ["https://bucket.s3-eu-west-2.amazonaws.com/key", true],
    ["https://s3-eu-west-2.amazonaws.com/bucket/key", true],
    // Dual-stack.
    ["https://bucket.s3.dualstack.eu-west-2.amazonaws.com/key", true],
    ["https://s3.dualstack.eu-west-2.amazonaws.com/bucket/key", true],
    // The legacy global endpoint serves every commercial region's buckets.
    ["https://bucket.s3.amazonaws.com/key", true],
    ["https://s3.amazonaws.com/bucket/key", true],
    ["https://my.dotted.bucket.s3.amazonaws.com/key", true],
    // Transfer Acceleration: virtual-hosted only.
    ["https://bucket.s3-accelerate.amazonaws.com/key", true],
    ["https://bucket.s3-accelerate.dualstack.amazonaws.com/key", true],
    ["https://s3-accelerate.amazonaws.com/bucket/key", false],
    ["https://s3-accelerate.dualstack.amazonaws.com/bucket/key", false],
    // https only, default port only.
    ["http://bucket.s3.eu-west-2.amazonaws.com/key", false],
    ["http://s3.amazonaws.com/bucket/key", false],
    ["https://bucket.s3.eu-west-2.amazonaws.com:8443/key", false],
    // Other regions and partitions.
    ["https://bucket.s3.eu-west-1.amazonaws.com/key", false],
    ["https://bucket.s3-eu-west-1.amazonaws.com/key", false],
    ["https://bucket.s3.dualstack.eu-west-1.amazonaws.com/key", false],
    ["https://bucket.s3-external-1.amazonaws.com/key", false],
    ["https://bucket.s3.eu-west-2.amazonaws.com.cn/key", false],
    ["https://bucket.s3.amazonaws.com.cn/key", false],
    // Lookalikes: the S3 name as a prefix, a label part, the user or the path.
    ["https://s3.eu-west-2.amazonaws.com.evil.com/bucket/key", false],
    ["https://bucket.s3.eu-west-2.amazonaws.com.evil.com/key", false],
    ["https://s3.amazonaws.com.evil.com/bucket/key", false],
    ["https://bucket.s3.amazonaws.com.evil.com/key", false],
    ["https://evil-s3.eu-west-2.amazonaws.com/key", false],
    ["https://evils3.eu-west-2.amazonaws.com/key", false],
    ["https://evil-s3.amazonaws.com/key", false],
    ["https://bucket.evils3-accelerate.amazonaws.com/key", false],
    ["https://s3.eu-west-2.amazonaws.com@evil.com/bucket/key", false],
    ["https://evil.com/s3.eu-west-2.amazonaws.com/bucket/key", false],
    ["https://evil.com/?host=bucket.s3.eu-west-2.amazonaws.com", false],
    ["https://bucket.s3.eu-west-2.amazonaws.com./key", false],
    // AWS names that are not S3 upload endpoints.
    ["https://amazonaws.com/bucket/key", false],
    ["https://bucket.amazonaws.com/key", false],
    ["https://eu-west-2.amazonaws.com/bucket/key", false],
    ["https://participant.connect.eu-west-2.amazonaws.com/x", false],
    ["https://bucket.s3-website.eu-west-2.amazonaws.com/key", false],
    ["https://bucket.s3-website-eu-west-2.amazonaws.com/key", false],
    ["https://ap-111122223333.s3-accesspoint.eu-west-2.amazonaws.com/key", false],
    ["https://52.95.150.10/bucket/key", false],
  ],
  "us-east-1": [
    ["https://bucket.s3.us-east-1.amazonaws.com/key", true],
    ["https://s3.us-east-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3.amazonaws.com/key", true],
    ["https://s3.amazonaws.com/bucket/key", true],
    // The legacy s3-external-1, us-east-1's alone.
    ["https://bucket.s3-external-1.amazonaws.com/key", true],
    ["https://s3-external-1.amazonaws.com/bucket/key", true],
    // FIPS and FIPS dual-stack.
    ["https://bucket.s3-fips.us-east-1.amazonaws.com/key", true],
    ["https://s3-fips.us-east-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3-fips.dualstack.us-east-1.amazonaws.com/key", true],
    ["https://s3-fips.dualstack.us-east-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3.dualstack.us-east-1.amazonaws.com/key", true],
    ["https://bucket.s3-accelerate.amazonaws.com/key", true],
    ["https://bucket.s3-accelerate.dualstack.amazonaws.com/key", true],
    ["https://bucket.s3-fips.us-east-2.amazonaws.com/key", false],
    ["https://bucket.s3-fips.amazonaws.com/key", false],
    ["https://bucket.s3-external-2.amazonaws.com/key", false],
    ["https://s3.us-east-1.amazonaws.com.evil.com/bucket/key", false],
    ["https://evil-s3.us-east-1.amazonaws.com/key", false],
    ["https://s3.amazonaws.com.evil.com/bucket/key", false],
  ],
  "us-west-2": [
    ["https://bucket.s3-us-west-2.amazonaws.com/key", true],
    ["https://s3-us-west-2.amazonaws.com/bucket/key", true],
    ["https://bucket.s3-fips.dualstack.us-west-2.amazonaws.com/key", true],
    ["https://bucket.s3-us-east-1.amazonaws.com/key", false],
  ],
  "us-gov-west-1": [
    ["https://bucket.s3.us-gov-west-1.amazonaws.com/key", true],
    ["https://s3.us-gov-west-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3.dualstack.us-gov-west-1.amazonaws.com/key", true],
    ["https://bucket.s3-fips.us-gov-west-1.amazonaws.com/key", true],
    ["https://s3-fips.us-gov-west-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3-fips.dualstack.us-gov-west-1.amazonaws.com/key", true],
    ["https://bucket.s3-us-gov-west-1.amazonaws.com/key", true],
    ["https://s3-fips-us-gov-west-1.amazonaws.com/bucket/key", true],
    ["https://bucket.s3-fips-us-gov-west-1.amazonaws.com/key", true],
    // GovCloud has no global endpoint and no Transfer Acceleration of its own.
    ["https://bucket.s3.amazonaws.com/key", false],
    ["https://bucket.s3-accelerate.amazonaws.com/key", false],
    ["https://bucket.s3.us-gov-east-1.amazonaws.com/key", false],
    ["https://bucket.s3.us-west-1.amazonaws.com/key", false],
    ["http://bucket.s3.us-gov-west-1.amazonaws.com/key", false],
    ["https://s3.us-gov-west-1.amazonaws.com.evil.com/bucket/key", false],
  ],
  "cn-north-1": [
    ["https://bucket.s3.cn-north-1.amazonaws.com.cn/key", true],
    ["https://s3.cn-north-1.amazonaws.com.cn/bucket/key", true],
    ["https://my.dotted.bucket.s3.cn-north-1.amazonaws.com.cn/key", true],
    ["https://bucket.s3.dualstack.cn-north-1.amazonaws.com.cn/key", true],
    ["https://s3.dualstack.cn-north-1.amazonaws.com.cn/bucket/key", true],
    // China: another domain, no FIPS, no acceleration, no dash form, no global endpoint.
    ["https://bucket.s3.cn-north-1.amazonaws.com/key", false],
    ["https://bucket.s3-fips.cn-north-1.amazonaws.com.cn/key", false],
    ["https://bucket.s3-accelerate.amazonaws.com.cn/key", false],
    ["https://bucket.s3-accelerate.amazonaws.com/key", false],
    ["https://bucket.s3-cn-north-1.amazonaws.com.cn/key", false],
    ["https://bucket.s3.amazonaws.com/key", false],
    ["https://bucket.s3.amazonaws.com.cn/key", false],
    ["https://bucket.s3.cn-northwest-1.amazonaws.com.cn/key", false],
    ["https://s3.cn-north-1.amazonaws.com.cn.evil.com/bucket/key", false],
    ["https://evil-s3.cn-north-1.amazonaws.com.cn/key", false],
  ],
  "cn-northwest-1": [
    ["https://bucket.s3.cn-northwest-1.amazonaws.com.cn/key", true],
    ["https://bucket.s3.dualstack.cn-northwest-1.amazonaws.com.cn/key", true],
    ["https://bucket.s3.cn-north-1.amazonaws.com.cn/key", false],
  ],
};

for (const [region, rows] of Object.entries(TABLE)) {
  Deno.test(`default upload hosts for AWS_REGION=${region}: every S3 form, nothing else`, () => {
    const hosts = hostsOf(region);
    const wrong = rows.filter(([url, expected]) => allowed(url, hosts) !== expected)
      .map(([url, expected]) => `${expected ? "refused" : "allowed"}: ${url}`);
    assert.deepEqual(wrong, []);
  });
}

Deno.test("default upload hosts: no pattern reaches outside S3's names", () => {
  // Every default pattern is an S3 endpoint under AWS's own domains, for any region.
  for (const region of Object.keys(TABLE)) {
    for (const pattern of hostsOf(region)) {
      assert.match(
        pattern,
        /^(\*\.)?s3([.-][a-z0-9.-]+)?\.amazonaws\.com(\.cn)?$/,
        `${region}: ${pattern}`,
      );
      assert.equal(typeof parseHostPattern(pattern), "object", pattern);
    }
  }
});

Deno.test("a malformed AWS_REGION is a configuration error, not a host pattern", () => {
  assert.throws(
    () => parseConfig({ AWS_REGION: "eu-west-2.evil.com", PARTICIPANT_ENDPOINT: "http://x" }),
    (e) => e instanceof ConfigError && /AWS_REGION: not an AWS region/.test(e.message),
  );
  assert.throws(
    () => parseConfig({ AWS_REGION: "evil.com" }),
    (e) => e instanceof ConfigError && /AWS_REGION: not an AWS region/.test(e.message),
  );
});

Deno.test("UPLOAD_HOSTS replaces the default list", () => {
  const config = parseConfig({
    AWS_REGION: "eu-west-2",
    UPLOAD_HOSTS: "*.s3.eu-west-1.amazonaws.com",
  });
  assert.ok(allowed("https://bucket.s3.eu-west-1.amazonaws.com/key", [...config.uploadHosts]));
  assert.ok(!allowed("https://bucket.s3.eu-west-2.amazonaws.com/key", [...config.uploadHosts]));
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
