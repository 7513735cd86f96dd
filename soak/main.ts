/**
 * `deno task soak`: the full soak through the worker (in workerd unless told otherwise).
 * Prints the figures and the memory readings, and exits non-zero only on a real loss (an
 * upload lost, duplicated, corrupted or completed behind a reported failure) or a real leak:
 * the worker's memory, read idle after full garbage collections, grown past the bounds below
 * (see `SoakMemory` in `soak.ts`).
 *
 * ```sh
 * deno task soak                                  # 2,000 uploads, 32 at once, 5% faults
 * deno task soak --runtime deno --fault-rate 0    # the Deno server, no faults
 * deno task soak --max-bytes 4096 --uploads 8000  # small files only
 * deno task soak --no-collect                     # memory as it is, no forced collections
 * deno task soak --new-connection-each            # no kept-alive client connections
 * ```
 *
 * Every option: `deno task soak --help`.
 *
 * @module
 */

import { startWorker, type WorkerRuntime } from "../testing/worker.ts";
import { exitWithUsage, parseCommandLine } from "../worker/_command_line.ts";
import { formatMemorySamples, formatSoakReport, runSoak } from "./soak.ts";

const USAGE = `Usage: deno task soak [options]

Many uploads of mixed sizes, many at once, through the upload worker, with faults injected
into the Participant Service and S3; then a cross-check of what the client was told against
what the chats hold, and the worker's memory after full garbage collections. Exits 1 on a
lost, duplicated or corrupted upload, or a leak.

Options (each also an environment variable):
  --uploads N              SOAK_UPLOADS        uploads in all (default 2000)
  --concurrency N          SOAK_CONCURRENCY    uploads at once (default 32)
  --max-bytes N            SOAK_MAX_BYTES      the largest upload (default 20971520)
  --fault-rate R           SOAK_FAULT_RATE     share of upstream calls hit by a fault (0.05)
  --seed N                 SOAK_SEED           seeds sizes and faults (default 1)
  --runtime R              SOAK_RUNTIME        workerd (default) or deno
  --sample-every N         SOAK_SAMPLE_EVERY   uploads between memory readings (default 100)
  --no-collect                                 memory as it is, no forced collections
  --new-connection-each                        no kept-alive client connections
  --help                                       this text`;

/**
 * The growth, after collections, that counts as a leak. From clean full runs
 * (docs/reliability.md, "Soak"): the live JS heap grew +0.8 MiB over the run in workerd and +1.3 MiB in Deno; RSS grew +0.1 to
 * +6.1 MiB over a second pass of 1,000 uploads (+15.0 MiB over one of 2,000). So the heap may
 * grow 4 MiB (three times the largest clean figure; 64 KiB kept per request is ~120 MiB here),
 * RSS 16 MiB.
 */
const HEAP_LEAK_BYTES = 4 * 2 ** 20;
const RSS_LEAK_BYTES = 16 * 2 ** 20;

const { values } = parseCommandLine(Deno.args, USAGE, {
  uploads: { type: "string" },
  concurrency: { type: "string" },
  "max-bytes": { type: "string" },
  "fault-rate": { type: "string" },
  seed: { type: "string" },
  runtime: { type: "string" },
  "sample-every": { type: "string" },
  "no-collect": { type: "boolean", default: false },
  "new-connection-each": { type: "boolean", default: false },
});

const setting = (flag: keyof typeof values, env: string, fallback: number): number => {
  const given = values[flag] ?? Deno.env.get(env);
  const n = Number(given ?? fallback);
  if (!Number.isFinite(n) || n < 0) exitWithUsage(USAGE, `--${flag} must be a number ≥ 0`);
  return n;
};
const runtime = (values.runtime ?? Deno.env.get("SOAK_RUNTIME") ?? "workerd") as WorkerRuntime;
if (runtime !== "workerd" && runtime !== "deno") {
  exitWithUsage(USAGE, "--runtime must be workerd or deno");
}
const collect = !values["no-collect"];

const report = await runSoak({
  uploads: setting("uploads", "SOAK_UPLOADS", 2000),
  concurrency: setting("concurrency", "SOAK_CONCURRENCY", 32),
  maxBytes: setting("max-bytes", "SOAK_MAX_BYTES", 20 * 1024 * 1024),
  faultRate: setting("fault-rate", "SOAK_FAULT_RATE", 0.05),
  seed: setting("seed", "SOAK_SEED", 1),
  sampleEvery: setting("sample-every", "SOAK_SAMPLE_EVERY", 100),
  newConnectionEach: values["new-connection-each"],
  startWorker: (config) => startWorker({ runtime, inspect: collect, ...config }),
  log: (line) => console.error(line),
});
console.log(`runtime:          ${runtime}`);
console.log(
  `connections:      ${
    values["new-connection-each"] ? "a new one for each upload" : "one kept alive per lane"
  }`,
);
console.log(formatSoakReport(report));
console.log(`memory readings (RSS):\n${formatMemorySamples(report.memory)}`);
for (const problem of report.problems.slice(0, 20)) console.log(`problem: ${problem}`);

const lost = report.silentLosses > 0 || report.duplicates > 0 || report.problems.length > 0;
const { heap } = report.memory;
const leaked = collect &&
  (report.memory.growthBytes >= RSS_LEAK_BYTES ||
    (heap !== undefined && heap.endBytes - heap.baselineBytes >= HEAP_LEAK_BYTES));
if (lost) console.log("FAILED: uploads were lost, duplicated or corrupted");
if (leaked) {
  console.log(
    "FAILED: the worker's memory grew too much after collections (RSS 16 MiB or more over " +
      "the second pass, or the live JS heap 4 MiB or more over the run)",
  );
}
if (!collect) console.log("memory not judged: --no-collect reads it with garbage included");
Deno.exit(lost || leaked ? 1 : 0);
