import assert from "node:assert/strict";
import { formatSoakReport, runSoak } from "../soak/soak.ts";
import { startWorker } from "./_worker.ts";

Deno.test("soak (short): 100 uploads through workerd with 5% upstream faults lose nothing and leak nothing", async () => {
  const report = await runSoak({
    uploads: 100,
    concurrency: 8,
    maxBytes: 2 * 1024 * 1024,
    faultRate: 0.05,
    seed: 5,
    startWorker: (config) => startWorker({ runtime: "workerd", inspect: true, ...config }),
  });
  const figures = formatSoakReport(report);
  assert.deepEqual(report.problems, [], figures);
  assert.equal(report.uploads, 100, figures);
  assert.equal(report.silentLosses, 0, figures);
  assert.equal(report.duplicates, 0, figures);
  assert.equal(report.completed + report.failed, 100, figures);
  assert.equal(report.failed, 0, `every upload ends completed after retries:\n${figures}`);
  assert.ok(report.faultsInjected.service + report.faultsInjected.s3 > 0, figures);
  assert.equal(report.upstreamCalls.s3, 100 + report.errorsByKind.upload_failed, figures);
  // Idle readings after full collections; the second pass must not grow the worker (a leak of
  // the bodies alone would add ~20 MB here).
  assert.equal(report.memory.collected, true);
  assert.equal(report.memory.samples.filter((s) => s.idle).length, 3, figures);
  assert.ok(report.memory.growthBytes < 16 * 2 ** 20, figures);
  // What the worker's own code holds (its live JavaScript heap, ArrayBuffers included) stays
  // put over the run: 50 MB of bodies went through it.
  const heap = report.memory.heap!;
  assert.ok(heap.endBytes - heap.baselineBytes < 8 * 2 ** 20, figures);
});
