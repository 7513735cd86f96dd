import assert from "node:assert/strict";
import { WRANGLER, WRANGLER_CONFIG } from "../local/wrangler.ts";
import { workerBundle } from "./_worker.ts";

Deno.test("wrangler deploy --dry-run accepts the bundle, within its 20 KB gzip budget", async () => {
  const bundle = await workerBundle();
  const source = await Deno.readTextFile(bundle);
  assert.ok(!/\bDeno\./.test(source), "the Workers bundle holds nothing Deno-specific");

  const outdir = await Deno.makeTempDir({ prefix: "connect-attachments-deploy-" });
  try {
    const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        WRANGLER,
        "deploy",
        bundle,
        "--config",
        WRANGLER_CONFIG,
        "--dry-run",
        "--outdir",
        outdir,
      ],
      env: { NO_COLOR: "1", WRANGLER_SEND_METRICS: "false" },
      stdin: "null",
    }).output();
    const output = new TextDecoder().decode(stdout) + new TextDecoder().decode(stderr);
    assert.equal(code, 0, output);
    const size = /Total Upload: ([\d.]+) KiB \/ gzip: ([\d.]+) KiB/.exec(output);
    assert.ok(size, output);
    console.log(`worker bundle: ${size[1]} KiB minified, ${size[2]} KiB gzipped`);
    // The project's budget: 20 KB gzipped (Workers allow 3 MB on the Free plan). The worker
    // makes its three kinds of Participant Service call without openapi-fetch, which keeps
    // the bundle within it.
    assert.ok(
      Number(size[2]) * 1024 <= 20_000,
      `the bundle grew to ${size[2]} KiB gzipped, over the 20 KB budget`,
    );
    assert.match(output, /env\.AWS_REGION/);
    assert.match(output, /--dry-run: exiting now/);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});
