import assert from "node:assert/strict";
import { WRANGLER, WRANGLER_CONFIG } from "../testing/wrangler.ts";
import { workerBundle } from "../testing/worker.ts";

/**
 * Runs `wrangler deploy --dry-run` on a bundle and a configuration, keeping the upload form
 * wrangler would send (`--outfile`).
 */
async function dryRun(bundle: string, config: string, outdir: string) {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      WRANGLER,
      "deploy",
      bundle,
      "--config",
      config,
      "--dry-run",
      "--outdir",
      outdir,
      "--outfile",
      `${outdir}/upload.form`,
    ],
    env: { NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" },
    stdin: "null",
  }).output();
  const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
  return { code, output, metadata: () => uploadMetadata(`${outdir}/upload.form`) };
}

/** The metadata part of the multipart form that `wrangler deploy` uploads. */
async function uploadMetadata(path: string): Promise<{
  placement?: Record<string, string>;
  bindings: { name: string; type: string; text?: string; [other: string]: unknown }[];
}> {
  const bytes = await Deno.readFile(path);
  const boundary = new TextDecoder().decode(bytes.subarray(0, 200)).split("\r\n")[0].slice(2);
  const form = await new Response(bytes, {
    headers: { "content-type": `multipart/form-data; boundary=${boundary}` },
  }).formData();
  return JSON.parse(String(form.get("metadata")));
}

Deno.test("wrangler deploy --dry-run accepts the bundle, within its 20 KB gzip budget", async () => {
  const bundle = await workerBundle();
  const source = await Deno.readTextFile(bundle);
  assert.ok(!/\bDeno\./.test(source), "the Workers bundle holds nothing Deno-specific");
  // The OpenAPI document is a static asset (wrangler.jsonc's "assets"), not part of the bundle.
  assert.ok(!source.includes("downloadAttachment"), "the OpenAPI document stays out of the bundle");

  const outdir = await Deno.makeTempDir({ prefix: "connect-attachments-deploy-" });
  try {
    const { code, output, metadata } = await dryRun(bundle, WRANGLER_CONFIG, outdir);
    assert.equal(code, 0, output);
    const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
    assert.ok(size, output);
    console.log(`worker bundle: ${size[1]} KiB minified, ${size[2]} KiB gzipped`);
    // The project's budget: 20 KB gzipped (Workers allow 3 MB on the Free plan). The worker
    // carries the project's one client (openapi-fetch); its OpenAPI document is a static
    // asset instead, and the build leaves out the helpers of three Hono features it never uses
    // (app.mount(), c.req.parseBody(), c.html() with async content), which keeps the bundle
    // within it.
    assert.match(source, /app\.mount\(\) is not in this build/);
    assert.match(source, /c\.html\(\) with async content is not in this build/);
    assert.ok(
      Number(size[2]) * 1024 <= 20_000,
      `the bundle grew to ${size[2]} KiB gzipped, over the 20 KB budget`,
    );
    assert.match(output, /env\.AWS_REGION/);
    assert.match(output, /--dry-run: exiting now/);

    // Placement: next to the Connect instance's AWS region, the one AWS_REGION names.
    const { placement, bindings } = await metadata();
    assert.deepEqual(placement, { mode: "targeted", region: "aws:us-east-1" });
    const region = bindings.find((b) => b.name === "AWS_REGION");
    assert.deepEqual(region, { name: "AWS_REGION", type: "plain_text", text: "us-east-1" });
    assert.equal(placement.region, `aws:${region.text}`, "placement and AWS_REGION agree");
    assert.ok(
      bindings.some((b) => b.name === "ASSETS" && b.type === "assets"),
      "the static assets are bound as ASSETS",
    );
    // The per-token rate limit goes up as a ratelimit binding, its period the 10 s that the
    // worker's Retry-After says (rate_limit_test.ts holds the answer to it).
    assert.deepEqual(bindings.find((b) => b.type === "ratelimit"), {
      name: "RATE_LIMITER",
      type: "ratelimit",
      namespace_id: "1001",
      simple: { limit: 30, period: 10 },
    });
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});

Deno.test("wrangler deploy --dry-run: Smart Placement, the documented alternative, is accepted", async () => {
  const bundle = await workerBundle();
  const outdir = await Deno.makeTempDir({ prefix: "connect-attachments-deploy-" });
  try {
    const shipped = await Deno.readTextFile(WRANGLER_CONFIG);
    const targeted = '"placement": { "region": "aws:us-east-1" }';
    assert.ok(shipped.includes(targeted), "the shipped configuration places the worker by region");
    const config = `${outdir}/wrangler.jsonc`;
    // The copy lives elsewhere: its paths point back into the project.
    const assets = new URL("../generated/assets", import.meta.url).pathname;
    await Deno.writeTextFile(
      config,
      shipped.replace(targeted, '"placement": { "mode": "smart" }')
        .replace('"../dist/worker.js"', JSON.stringify(bundle))
        .replace('"../generated/assets"', JSON.stringify(assets)),
    );
    const { code, output, metadata } = await dryRun(bundle, config, outdir);
    assert.equal(code, 0, output);
    assert.deepEqual((await metadata()).placement, { mode: "smart" });
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});
