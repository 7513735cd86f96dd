/**
 * Throughput: one request through the worker (workerd and Deno) against the same client
 * `PUT`ting the same bytes straight to a pre-signed URL, interleaved, median of the runs.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { countCpu, loadAverage } from "../../testing/processes.ts";
import { launchStack } from "../stack.ts";
import { median, MiB, spread } from "../stats.ts";
import { prepareDirect, putDirect, putThroughWorker, verifyUpload } from "../uploads.ts";
import { type BenchWorker, launchWorker, type Runtime } from "../workers.ts";
import { bodyMd5 } from "../body.ts";
import { profileNotes } from "../profile.ts";

const TARGET_RATIO = 0.9;

/** One timed upload of the throughput figure. */
interface Sample {
  path: "direct" | Runtime;
  size: number;
  run: number;
  ms: number;
  /** CPU seconds spent by each process group during the upload. */
  cpu: Record<string, number>;
  /** The Participant Service's handling time of the calls made during the upload, in ms. */
  service: Record<string, number>;
  error?: string;
}

/**
 * Runs the throughput figure.
 *
 * @param plan Sizes and runs.
 * @param log Progress lines.
 * @returns Rows: one per size and runtime.
 */
export async function throughputFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const maxBytes = Math.max(...plan.throughputSizes);
  const profileDir = plan.cpuProfile
    ? new URL(`../out/profiles/throughput-${Date.now()}`, import.meta.url).pathname
    : undefined;
  const stack = await launchStack(
    { maxAttachmentBytes: maxBytes },
    profileDir && `${profileDir}/stack`,
  );
  const workers: BenchWorker[] = [];
  const samples: Sample[] = [];
  const loadBefore = loadAverage();
  try {
    for (const runtime of ["workerd", "deno"] as const) {
      workers.push(
        await launchWorker(
          runtime,
          stack,
          maxBytes,
          plan.launcher,
          profileDir && `${profileDir}/deno-worker`,
        ),
      );
    }
    const chat = await stack.openChat();
    // Warm-up: connections, JIT and the S3 bucket, untimed.
    for (const worker of workers) {
      const body = { size: 64 * 1024, seed: 999 };
      await verifyUpload(stack, await putThroughWorker(worker.url, chat, body), body, true);
    }
    for (const size of plan.throughputSizes) {
      for (let run = 0; run < plan.throughputRuns; run++) {
        const body = { size, seed: run + 1 };
        bodyMd5(size, body.seed);
        const paths: Sample["path"][] = ["direct", "workerd", "deno"];
        // Interleaved, and rotated each run so that no path always goes first.
        const order = paths.map((_, i) => paths[(i + run) % paths.length]);
        for (const path of order) {
          const worker = workers.find((w) => w.runtime === path);
          const prepared = path === "direct" ? await prepareDirect(stack, chat, body) : undefined;
          await stack.timings();
          const cpu = countCpu({
            client: [Deno.pid],
            service: [stack.servicePid],
            s3: [stack.s3Pid],
            worker: worker?.workerPids() ?? [],
          });
          const sent = prepared
            ? await putDirect(prepared, body)
            : await putThroughWorker(worker!.url, chat, body);
          const used = cpu.stop();
          const service = Object.fromEntries(
            Object.entries(await stack.timings()).map((
              [op, ms],
            ) => [op, ms.reduce((a, b) => a + b, 0)]),
          );
          const outcome = await verifyUpload(stack, sent, body, path !== "direct");
          samples.push({
            path,
            size,
            run,
            ms: outcome.ms,
            cpu: used,
            service,
            error: outcome.error,
          });
          log(
            `throughput ${mibText(size)} ${path} run ${run + 1}: ${outcome.ms.toFixed(1)} ms${
              outcome.error ? ` ERROR ${outcome.error}` : ""
            }`,
          );
        }
      }
    }
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await stack.close();
  }
  const result = summarize(plan, samples, loadBefore, loadAverage());
  if (profileDir) {
    for (
      const [dir, title] of [
        ["deno-worker", "the Deno worker"],
        ["stack/s3", "the local S3"],
        ["stack/service", "the local Participant Service"],
      ]
    ) {
      const notes = await profileNotes(`${profileDir}/${dir}`, `${title} over the whole figure`);
      if (notes) result.notes.push(notes);
    }
  }
  return result;
}

function summarize(
  plan: Plan,
  samples: Sample[],
  loadBefore: number,
  loadAfter: number,
): FigureResult {
  const rows: Row[] = [];
  const notes: string[] = [];
  const cpuNotes: string[] = [];
  const callNotes: string[] = [];
  for (const size of plan.throughputSizes) {
    const ok = (path: Sample["path"]) =>
      samples.filter((s) => s.size === size && s.path === path && !s.error);
    const direct = spread(ok("direct").map((s) => s.ms));
    const directMBps = mbps(size, direct.median);
    for (const runtime of ["workerd", "deno"] as const) {
      const through = spread(ok(runtime).map((s) => s.ms));
      const errors = samples.filter((s) => s.size === size && s.path === runtime && s.error);
      const ratio = direct.median / through.median;
      const met = errors.length === 0 && ratio >= TARGET_RATIO;
      rows.push({
        figure: "throughput",
        measure: `${mibText(size)} via ${runtime} vs direct PUT`,
        result: `${ratio.toFixed(2)}× (${mbps(size, through.median).toFixed(0)} vs ${
          directMBps.toFixed(0)
        } MB/s; worker ${msRange(through)}, direct ${msRange(direct)}, n=${through.n}${
          errors.length ? `, ${errors.length} errors` : ""
        })`,
        target: `≥ ${TARGET_RATIO.toFixed(2)}× direct`,
        verdict: met ? "met" : "missed",
        miss: met
          ? undefined
          : errors.length
          ? `${errors.length} failed uploads`
          : `by ${(TARGET_RATIO - ratio).toFixed(2)} (${
            ((1 - ratio / TARGET_RATIO) * 100).toFixed(0)
          }% short)`,
      });
    }
    for (const runtime of ["workerd", "deno"] as const) {
      const runs = ok(runtime);
      if (runs.length === 0) continue;
      const start = median(runs.map((s) => s.service.StartAttachmentUpload ?? 0));
      const complete = median(runs.map((s) => s.service.CompleteAttachmentUpload ?? 0));
      const worker = median(runs.map((s) => s.ms));
      const ceiling = direct.median / (direct.median + start + complete);
      callNotes.push(
        `| ${mibText(size)} | ${runtime} | ${worker.toFixed(0)} | ${start.toFixed(0)} | ${
          complete.toFixed(0)
        } | ${direct.median.toFixed(0)} | ${ceiling.toFixed(2)} |`,
      );
    }
    for (const path of ["direct", "workerd", "deno"] as const) {
      const runs = ok(path);
      if (runs.length === 0) continue;
      const gib = (size * runs.length) / (1024 * MiB);
      const per = (group: string) => runs.reduce((n, s) => n + (s.cpu[group] ?? 0), 0) / gib;
      const total = ["client", "worker", "service", "s3"].reduce((n, g) => n + per(g), 0);
      cpuNotes.push(
        `| ${mibText(size)} | ${path} | ${per("client").toFixed(2)} | ${
          per("worker").toFixed(2)
        } | ${per("service").toFixed(2)} | ${per("s3").toFixed(2)} | ${total.toFixed(2)} |`,
      );
    }
  }
  notes.push(
    "Each run sends the same generated bytes three ways, in an order rotated every run: " +
      "straight to a pre-signed URL (StartAttachmentUpload made beforehand, untimed), and " +
      "as one `PUT /attachments/{name}` through the worker in workerd and in Deno (start, " +
      "stream to S3 and complete, all timed). The ratio is the direct median time over the " +
      "worker's median time (throughput ratio). Every upload was checked against S3 " +
      "(size and MD5 ETag; completion for the worker).",
    `Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}.`,
    "Where the worker's time goes (medians, ms): the whole request, and the Participant " +
      "Service's own handling of StartAttachmentUpload and CompleteAttachmentUpload (the " +
      "latter checks the object in S3) during it, against the direct PUT of the same bytes. " +
      "The last column is the best ratio a worker that cost nothing could reach, since the " +
      "direct figure leaves both calls out: direct / (direct + start + complete).",
    [
      "| size | runtime | worker request | start call | complete call | direct PUT | ceiling |",
      "|---|---|---|---|---|---|---|",
      ...callNotes,
    ].join("\n"),
    "CPU seconds per GiB uploaded, by process (user + system, from /proc, in 10 ms ticks: " +
      "coarse for the smallest size): the client (the benchmark process, which also hosts " +
      "Miniflare's Node side), the worker process, the local Participant Service and the " +
      "local S3:",
    [
      "| size | path | client | worker | service | S3 | total |",
      "|---|---|---|---|---|---|---|",
      ...cpuNotes,
    ].join("\n"),
  );
  return { figure: "throughput", rows, notes, data: { samples, loadBefore, loadAfter } };
}

/** MB/s (10^6 bytes per second). */
function mbps(size: number, ms: number): number {
  return size / 1e6 / (ms / 1000);
}

function msRange(s: { min: number; median: number; max: number }): string {
  return `${s.min.toFixed(0)}/${s.median.toFixed(0)}/${s.max.toFixed(0)} ms`;
}

/** A size as `20 MiB` or `256 KiB`. */
export function mibText(size: number): string {
  return size >= MiB ? `${+(size / MiB).toFixed(1)} MiB` : `${+(size / 1024).toFixed(1)} KiB`;
}
