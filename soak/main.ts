/**
 * `deno task soak`: the full soak through the worker in workerd. Prints the figures and exits
 * non-zero when an upload was lost, duplicated or corrupted, or the worker's memory grew by
 * 16 MB or more.
 *
 * Options (environment): `SOAK_UPLOADS` (2000), `SOAK_CONCURRENCY` (32), `SOAK_MAX_BYTES`
 * (20971520), `SOAK_FAULT_RATE` (0.05), `SOAK_SEED` (1).
 *
 * @module
 */

import { startWorker } from "../tests/_worker.ts";
import { formatSoakReport, runSoak } from "./soak.ts";

const number = (name: string, fallback: number) => Number(Deno.env.get(name) ?? fallback);

const report = await runSoak({
  uploads: number("SOAK_UPLOADS", 2000),
  concurrency: number("SOAK_CONCURRENCY", 32),
  maxBytes: number("SOAK_MAX_BYTES", 20 * 1024 * 1024),
  faultRate: number("SOAK_FAULT_RATE", 0.05),
  seed: number("SOAK_SEED", 1),
  startWorker: (config) => startWorker({ runtime: "workerd", ...config }),
  log: (line) => console.error(line),
});
console.log(formatSoakReport(report));
for (const problem of report.problems.slice(0, 20)) console.log(`problem: ${problem}`);
const ok = report.silentLosses === 0 && report.duplicates === 0 &&
  report.memory.growthBytes < 16 * 2 ** 20 && report.problems.length === 0;
Deno.exit(ok ? 0 : 1);
