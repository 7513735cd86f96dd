/**
 * The cost of one upload on Workers: the worker's CPU time per upload in workerd (the time
 * its isolate runs, from a CPU profile through the inspector; the workerd process's whole CPU
 * time from /proc as an upper bound) by body size, and the subrequests each upload makes,
 * counted on the wire, against Workers' limits.
 *
 * The worker runs alone in a workerd of its own (`bench/bare_workerd.ts`, no Miniflare), so
 * that the profile and the process hold nothing but it. The local stack runs in this process,
 * behind two recording proxies: one in front of the Participant Service, one in front of S3.
 * A calibration worker (`bench/spin_worker.js`) that spins for a known stretch shows how much
 * of a busy isolate the profile catches on this machine.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { countCpu, loadAverage } from "../../testing/processes.ts";
import { median, spread } from "../stats.ts";
import { putThroughWorker, type UploadOutcome } from "../uploads.ts";
import { mibText } from "./throughput.ts";
import { startBareWorkerd } from "../bare_workerd.ts";
import { startLocalStack } from "../../local/stack.ts";
import { startProxy, type TcpProxy } from "../../testing/proxy.ts";
import { openChat } from "../../local/chat.ts";
import { createParticipantClient } from "../../src/_core/client.ts";
import { type CpuTime, cpuTime, profileCpu } from "../../testing/inspector.ts";
import { armFault, clearFaults } from "../../local/faults.ts";
import { workerBundle } from "../../testing/worker.ts";

/** "A few milliseconds" of isolate time per upload. */
const TARGET_JS_MS = 5;
/** The profiler's sampling interval, in microseconds. */
const INTERVAL_US = 100;
/** Iterations of the calibration worker's loop per request (tens of milliseconds). */
const SPIN = 2_000_000;
/** Flat in the body size: the largest body's median within this of the smallest's. */
const FLAT_MS = 2;
/** Workers Free allows 50 subrequests per request (Paid: 10,000). */
const FREE_SUBREQUESTS = 50;
/** Tries per Participant Service call with the worker's defaults (`SERVICE_MAX_ATTEMPTS`). */
const DEFAULT_ATTEMPTS = 3;

/** One profiled upload. */
interface Sample {
  size: number;
  run: number;
  /** Wall time of the request, ms. */
  ms: number;
  /** Sampled time by kind, ms. */
  profile: CpuTime;
  /** CPU seconds of the workerd process (user + system) during the upload. */
  processCpu: number;
  /** Requests the worker made: Participant Service paths and S3 methods. */
  subrequests: string[];
  error?: string;
}

/**
 * Runs the figure.
 *
 * @param plan Sizes and runs.
 * @param log Progress lines.
 * @returns Rows: JavaScript CPU per size, its flatness, and subrequests per upload.
 */
export async function costFigure(plan: Plan, log: (line: string) => void): Promise<FigureResult> {
  const maxBytes = Math.max(...plan.costSizes);
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    maxAttachmentBytes: maxBytes,
  });
  const proxies: TcpProxy[] = [];
  const samples: Sample[] = [];
  let retried: Sample | undefined;
  let calibration: Calibration | undefined;
  const loadBefore = loadAverage();
  let worker: Awaited<ReturnType<typeof startBareWorkerd>> | undefined;
  try {
    const s3 = startProxy({ target: hostPort(stack.s3.url), recordHeads: true });
    const service = startProxy({ target: hostPort(stack.participantUrl), recordHeads: true });
    proxies.push(s3, service);
    stack.service.s3.publicUrl = s3.url;
    worker = await startBareWorkerd(await workerBundle(), {
      PARTICIPANT_ENDPOINT: service.url,
      UPLOAD_HOSTS: new URL(s3.url).host,
      MAX_ATTACHMENT_BYTES: String(maxBytes),
    });
    const chat = await openChat(createParticipantClient({ endpoint: stack.participantUrl }));
    const measure = async (size: number, run: number): Promise<Sample> => {
      const seen = { service: service.heads.length, s3: s3.heads.length };
      const cpu = countCpu({ worker: [worker!.pid] });
      let outcome: UploadOutcome = { ms: 0, error: "not run" };
      const [profile] = await profileCpu(worker!.inspector, async () => {
        outcome = await putThroughWorker(worker!.url, chat, { size, seed: run + 1 });
      }, INTERVAL_US);
      const processCpu = cpu.stop().worker;
      const subrequests = [
        ...service.heads.slice(seen.service).map((head) => head.split(" ")[1]),
        ...s3.heads.slice(seen.s3).map((head) => `S3 ${head.split(" ")[0]}`),
      ];
      return {
        size,
        run,
        ms: outcome.ms,
        profile: cpuTime(profile, INTERVAL_US),
        processCpu,
        subrequests,
        error: outcome.error,
      };
    };
    // Warm-up, untimed: connections, JIT.
    for (let i = 0; i < 3; i++) await measure(64 * 1024, 100 + i);
    for (const size of plan.costSizes) {
      for (let run = 0; run < plan.costRuns; run++) {
        const sample = await measure(size, run);
        samples.push(sample);
        log(
          `cost ${mibText(size)} run ${run + 1}: isolate ${
            (sample.profile.js + sample.profile.gc + sample.profile.program).toFixed(1)
          } ms, process ${
            (sample.processCpu * 1000).toFixed(0)
          } ms, ${sample.subrequests.length} subrequests${
            sample.error ? ` ERROR ${sample.error}` : ""
          }`,
        );
      }
    }
    // Retries are subrequests too: one throttled start and one failed completion.
    await armFault(stack.participantUrl, { operation: "StartAttachmentUpload", kind: "throttle" });
    await armFault(stack.participantUrl, { operation: "CompleteAttachmentUpload", kind: "error" });
    retried = await measure(plan.costSizes[0], 99);
    await clearFaults(stack.participantUrl);
    calibration = await calibrate();
  } finally {
    await worker?.close();
    await Promise.allSettled(proxies.map((p) => p.close()));
    await stack.close();
  }
  return summarize(plan, samples, retried!, calibration!, loadBefore, loadAverage());
}

/** What the profile caught of a known busy stretch. */
interface Calibration {
  /** Isolate time the profile shows, ms. */
  profiledMs: number;
  /** The workerd process's CPU time, ms. */
  processMs: number;
  /** Requests made. */
  requests: number;
}

/** Runs the spinning worker in its own workerd: five requests, profiled and counted. */
async function calibrate(): Promise<Calibration> {
  const spinner = await startBareWorkerd(
    new URL("../spin_worker.js", import.meta.url).pathname,
    {},
  );
  try {
    const spin = async () => await (await fetch(`${spinner.url}/?n=${SPIN}`)).text();
    for (let i = 0; i < 3; i++) await spin();
    const requests = 5;
    const cpu = countCpu({ spinner: [spinner.pid] });
    const [profile] = await profileCpu(spinner.inspector, async () => {
      for (let i = 0; i < requests; i++) await spin();
    }, INTERVAL_US);
    const processMs = cpu.stop().spinner * 1000;
    const time = cpuTime(profile, INTERVAL_US);
    return { profiledMs: time.js + time.gc + time.program, processMs, requests };
  } finally {
    await spinner.close();
  }
}

function summarize(
  plan: Plan,
  samples: Sample[],
  retried: Sample,
  calibration: Calibration,
  loadBefore: number,
  loadAfter: number,
): FigureResult {
  const rows: Row[] = [];
  const table: string[] = [];
  const medians: number[] = [];
  const js = (s: Sample) => s.profile.js + s.profile.gc + s.profile.program;
  for (const size of plan.costSizes) {
    const runs = samples.filter((s) => s.size === size && !s.error);
    const errors = samples.filter((s) => s.size === size && s.error).length;
    const jsMs = spread(runs.map(js));
    // /proc counts in 10 ms ticks: the mean over the runs is finer than any one of them.
    const processMs = runs.reduce((n, s) => n + s.processCpu, 0) / runs.length * 1000;
    medians.push(jsMs.median);
    const met = errors === 0 && jsMs.median <= TARGET_JS_MS;
    rows.push({
      figure: "cost",
      measure: `worker CPU per upload, ${mibText(size)} (workerd isolate, from its CPU profile)`,
      result: `isolate ${jsMs.median.toFixed(1)} ms (${jsMs.min.toFixed(1)}–${
        jsMs.max.toFixed(1)
      }, n=${jsMs.n}); whole workerd process ≤ ${processMs.toFixed(0)} ms${
        errors ? `; ${errors} errors` : ""
      }`,
      target: `isolate ≤ ${TARGET_JS_MS} ms`,
      verdict: met ? "met" : "missed",
      miss: met
        ? undefined
        : errors
        ? `${errors} failed uploads`
        : `by ${(jsMs.median - TARGET_JS_MS).toFixed(1)} ms`,
    });
    table.push(
      `| ${mibText(size)} | ${median(runs.map((s) => s.ms)).toFixed(0)} | ${
        median(runs.map((s) => s.profile.js)).toFixed(1)
      } | ${median(runs.map((s) => s.profile.gc)).toFixed(1)} | ${
        median(runs.map((s) => s.profile.program)).toFixed(1)
      } | ${processMs.toFixed(0)} |`,
    );
  }
  const spreadMs = Math.max(...medians) - Math.min(...medians);
  const flat = spreadMs <= FLAT_MS;
  rows.push({
    figure: "cost",
    measure: `isolate CPU per upload across ${plan.costSizes.map(mibText).join(", ")}`,
    result: `medians ${medians.map((m) => m.toFixed(1)).join(" / ")} ms (spread ${
      spreadMs.toFixed(1)
    } ms)`,
    target: `flat: within ${FLAT_MS} ms`,
    verdict: flat ? "met" : "missed",
    miss: flat ? undefined : `by ${(spreadMs - FLAT_MS).toFixed(1)} ms`,
  });
  const plain = samples.filter((s) => !s.error).map((s) => s.subrequests.length);
  const counts = (s: Sample) => {
    const by = new Map<string, number>();
    for (const request of s.subrequests) by.set(request, (by.get(request) ?? 0) + 1);
    return [...by].map(([what, n]) => `${what.replace(/^\/participant\//, "")} ${n}`).join(", ");
  };
  const worst = 2 * DEFAULT_ATTEMPTS + 1;
  const withinFree = Math.max(...plain, retried.subrequests.length, worst) <= FREE_SUBREQUESTS;
  rows.push({
    figure: "cost",
    measure: "subrequests per upload (start, S3 PUT, complete; retries count)",
    result: `${[...new Set(plain)].join("/")} in every upload (${
      counts(samples[0])
    }); ${retried.subrequests.length} with one throttled start and one failed completion; at most ${worst} with the default ${DEFAULT_ATTEMPTS} tries per call`,
    target: `≤ ${FREE_SUBREQUESTS} (Workers Free; Paid: 10,000)`,
    verdict: withinFree && !retried.error ? "met" : "missed",
    miss: retried.error ? `the retried upload failed: ${retried.error}` : undefined,
  });
  const caught = calibration.profiledMs / calibration.processMs;
  const notes = [
    "Each upload is one `PUT /attachments/{name}` (with its length) to the worker running alone " +
    "in a workerd process of its own (a Cap'n Proto configuration, no Miniflare: under " +
    "Miniflare its entry worker shares the thread, and its samples land in the worker's " +
    "profile). Around each upload the figure records a CPU profile of the worker's isolate " +
    `through workerd's inspector (V8's sampler, every ${INTERVAL_US} µs) and reads the workerd ` +
    "process's CPU time from /proc. The isolate figure is the sampled time the isolate ran: " +
    "its JavaScript, the collector, and `(program)`, where V8 files workerd's JavaScript " +
    "samples (its sampler cannot walk workerd's stacks: a loop in the calibration worker shows " +
    "up there, not under its function). V8 samples an isolate only while it runs, so a sample " +
    "after a gap counts for one interval. The process figure also holds what workerd does " +
    "outside the isolate, above all moving the body from the client's socket to S3's, so it " +
    "grows with the size; it is an upper bound, not what Workers bills (CPU time, not time " +
    "spent waiting on I/O).",
    `Calibration: a worker that spins for a fixed loop, ${calibration.requests} requests: the ` +
    `profile shows ${calibration.profiledMs.toFixed(0)} ms of isolate time, /proc ` +
    `${calibration.processMs.toFixed(0)} ms of process CPU (${(caught * 100).toFixed(0)}%). On ` +
    "a loaded machine the sampler falls behind and the profile undercounts long busy stretches; " +
    "an upload's isolate runs in short stretches, a few samples each.",
    [
      "| size | request ms | isolate ms: JS | GC | (program) | process CPU ms (mean) |",
      "|---|---|---|---|---|---|",
      ...table,
    ].join("\n"),
    `Subrequests were counted on the wire (proxies in front of the Participant Service and S3). ` +
    "Workers' limits (developers.cloudflare.com/workers/platform/limits, as stored): 50 " +
    "subrequests per request on Workers Free and 10,000 on Paid (earlier versions of the page: " +
    "1,000); CPU time 10 ms per request on Free, up to 5 minutes on Paid. Each Participant " +
    `Service call is tried up to SERVICE_MAX_ATTEMPTS times (default ${DEFAULT_ATTEMPTS}); the S3 ` +
    "PUT is never retried (its body is a stream), so an upload makes at most " +
    "2 × SERVICE_MAX_ATTEMPTS + 1 subrequests: within Free's 50 up to 24 tries per call.",
    `Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}.`,
  ];
  return {
    figure: "cost",
    rows,
    notes,
    data: { samples, retried, calibration, loadBefore, loadAfter },
  };
}

function hostPort(url: string): { hostname: string; port: number } {
  const { hostname, port } = new URL(url);
  return { hostname, port: Number(port) };
}
