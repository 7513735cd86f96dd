import assert from "node:assert/strict";
import { FIGURES } from "../bench/plan.ts";
import type { BenchReport } from "../bench/report.ts";

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
    assert.equal(measures("concurrency").length, 3);
    assert.equal(measures("bundle").length, 3);
    assert.equal(measures("coldstart").length, 4);
    // Every upload was checked against S3 and none failed.
    assert.doesNotMatch(stdout, /failed uploads|errors\)/);

    const markdown = await Deno.readTextFile(`${out}/results.md`);
    assert.match(markdown, /\| figure \| measure \| result \| target \| verdict \|/);
    assert.match(markdown, /cores: \d+/);
    assert.match(stdout, /figure\s+measure\s+result\s+target\s+verdict/);
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
