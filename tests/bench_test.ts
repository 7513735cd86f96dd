import assert from "node:assert/strict";
import { FIGURES } from "../bench/plan.ts";
import type { BenchReport } from "../bench/report.ts";
import { launchStack } from "../bench/stack.ts";
import { prepareDirect, putDirect, verifyUpload } from "../bench/uploads.ts";
import { rawPut } from "../testing/raw_http.ts";
import { bodyChunks } from "../bench/body.ts";
import { hasChromium } from "../testing/browser.ts";

// A smoke run of the benchmark on tiny sizes: it must run end to end and produce every row
// of the table. No figure is asserted: speed is for the benchmark, not for tests.
Deno.test("deno task bench --quick measures every figure and writes both result files", async () => {
  const out = await Deno.makeTempDir({ prefix: "bench-smoke-" });
  try {
    const run = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        new URL("../bench/main.ts", import.meta.url).pathname,
        "--quick",
        "--quiet",
        "--out",
        out,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(run.stdout);
    const stderr = new TextDecoder().decode(run.stderr);
    assert.equal(run.code, 0, `the bench failed:\n${stdout}\n${stderr.slice(-3000)}`);

    const report = JSON.parse(await Deno.readTextFile(`${out}/results.json`)) as BenchReport;
    assert.deepEqual(report.figures.map((f) => f.figure), [...FIGURES]);
    const measures = (figure: string) =>
      report.figures.find((f) => f.figure === figure)!.rows.map((r) => r.measure);
    for (const figure of report.figures) {
      for (const row of figure.rows) {
        assert.notEqual(row.measure, "(could not be measured)", `${figure.figure}: ${row.result}`);
        assert.ok(row.result.length > 0);
      }
    }
    // throughput: each size through workerd and Deno, each against the direct PUT.
    const sizes = (report.plan as { throughputSizes: number[] }).throughputSizes.length;
    for (const runtime of ["workerd", "deno"]) {
      assert.equal(
        measures("throughput").filter((m) => m.includes(`via ${runtime} vs direct`)).length,
        sizes,
      );
    }
    // memory: two sizes and the size-independence row, per runtime.
    assert.equal(measures("memory").length, 6);
    // latency: the three-call baseline and both runtimes, on loopback and with delays.
    assert.equal(measures("latency").length, 6);
    assert.equal(measures("concurrency").length, 5);
    assert.equal(measures("bundle").length, 3);
    assert.equal(measures("coldstart").length, 4);
    // curl: through the relay with and without Expect, workerd alone both ways, the pipe
    // control (the hop alone), and the worker against the pipe.
    assert.equal(measures("curl").length, 6);
    // cost: CPU per size, its flatness, and subrequests per upload.
    const costSizes = (report.plan as { costSizes: number[] }).costSizes.length;
    assert.equal(measures("cost").length, costSizes + 2);
    // topology: per size, the three-call baseline and the worker at the edge and next to AWS,
    // each with its upstream connections warm and cold; browser: the baseline and both
    // workers, warm, in Chromium (one row saying why where there is none).
    const topology = (report.plan as { topology: { sizes: number[]; browserSizes: number[] } })
      .topology;
    assert.equal(measures("topology").length, 5 * topology.sizes.length);
    assert.equal(measures("browser").length, hasChromium ? 3 * topology.browserSizes.length : 1);
    // Every upload was checked against S3 (size, MD5, completion) and none failed.
    const failures: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) return value.forEach(walk);
      if (typeof value !== "object" || value === null) return;
      for (const [key, inner] of Object.entries(value)) {
        if (key === "error" && inner) failures.push(String(inner));
        else if (key === "errors" && Array.isArray(inner)) failures.push(...inner.map(String));
        else walk(inner);
      }
    };
    for (const figure of report.figures) walk(figure.data);
    assert.deepEqual(failures, []);

    const markdown = await Deno.readTextFile(`${out}/results.md`);
    assert.match(
      markdown,
      /\|\s*figure\s*\|\s*measure\s*\|\s*result\s*\|\s*target\s*\|\s*verdict\s*\|/,
    );
    assert.match(markdown, /cores: \d+/);
    assert.match(stdout, /figure\s+measure\s+result\s+target\s+verdict/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});

Deno.test("the bench's upload check catches wrong bytes, short bodies and missing completion", async () => {
  const stack = await launchStack({ maxAttachmentBytes: 1024 * 1024 });
  try {
    const chat = await stack.openChat();
    const body = { size: 300_000, seed: 5 };
    const prepared = await prepareDirect(stack, chat, body);
    const sent = await putDirect(prepared, body);
    assert.equal(sent.error, undefined);
    // The same upload checked against other bytes of the same size: an MD5 mismatch.
    const other = await verifyUpload(stack, sent, { size: body.size, seed: 6 }, false, true);
    assert.match(other.error ?? "", /MD5 mismatch/);
    // A direct PUT is never completed.
    const notDone = await verifyUpload(stack, sent, body, true, true);
    assert.equal(notDone.error, "not completed");
    assert.equal((await verifyUpload(stack, sent, body, false)).error, undefined);
    // A body shorter than declared never gets stored.
    const short = await prepareDirect(stack, chat, body);
    const cut = await rawPut(short.url, {
      headers: short.headers,
      size: body.size,
      body: bodyChunks(body.size - 1000, body.seed),
    }).catch((error) => error);
    assert.ok(cut instanceof Error || cut.status !== 200);
    const stored = await verifyUpload(
      stack,
      { ms: 0, attachmentId: short.attachmentId },
      body,
      false,
    );
    // (The local S3 may keep the part it got; either way the check refuses it.)
    assert.match(stored.error ?? "", /^stored -?\d+ bytes of 300000$/);
  } finally {
    await stack.close();
  }
});
