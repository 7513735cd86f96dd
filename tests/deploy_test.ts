import assert from "node:assert/strict";
import { WRANGLER, WRANGLER_CONFIG } from "../local/wrangler.ts";
import { workerBundle } from "./_worker.ts";

Deno.test("wrangler deploy --dry-run accepts the bundle; its size is printed", async () => {
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
    // Workers allow 3 MB (gzipped) on the Free plan; this worker should stay far below.
    assert.ok(Number(size[2]) < 256, `the bundle grew to ${size[2]} KiB gzipped`);
    assert.match(output, /env\.AWS_REGION/);
    assert.match(output, /--dry-run: exiting now/);
  } finally {
    await Deno.remove(outdir, { recursive: true });
  }
});
