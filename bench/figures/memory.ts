/**
 * Memory per upload: how much the worker's resident memory grows while one large body
 * streams through it, in workerd and in Deno, for two body sizes.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { type RssTrace, sampleRss } from "../../testing/processes.ts";
import { launchStack } from "../stack.ts";
import { MiB } from "../stats.ts";
import { putThroughWorker, verifyUpload } from "../uploads.ts";
import { launchWorker, type Runtime } from "../workers.ts";
import { mibText } from "./throughput.ts";
import { bodyMd5 } from "../body.ts";

/** The target: growth per upload at most 16 MiB, whatever the body size. */
export const MEMORY_TARGET_BYTES = 16 * MiB;

/** One upload's memory trace. */
interface MemorySample {
  runtime: Runtime;
  size: number;
  run: number;
  ms: number;
  /** Resident memory before the upload (idle, after a warm-up), summed over the processes. */
  idleRss: number;
  /** The peak: the higher of the sampled RSS and the kernel's VmHWM since the reset. */
  peakRss: number;
  /** The processes measured. */
  pids: number[];
  trace: RssTrace;
  error?: string;
}

/**
 * Runs the memory figure.
 *
 * @param plan Sizes and runs.
 * @param log Progress lines.
 * @returns Rows: one per size and runtime.
 */
export async function memoryFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const maxBytes = Math.max(...plan.memorySizes);
  const stack = await launchStack({ maxAttachmentBytes: maxBytes });
  const samples: MemorySample[] = [];
  try {
    const chat = await stack.openChat();
    for (const runtime of ["workerd", "deno"] as const) {
      const worker = await launchWorker(runtime, stack, maxBytes, plan.launcher);
      try {
        // Warm-up uploads bring the runtime to its steady state (JIT, pools, buffers).
        for (let i = 0; i < 3; i++) {
          const body = { size: 4 * MiB, seed: 900 + i };
          await verifyUpload(stack, await putThroughWorker(worker.url, chat, body), body, true);
        }
        for (const size of plan.memorySizes) {
          for (let run = 0; run < plan.memoryRuns; run++) {
            const body = { size, seed: 50 + run };
            bodyMd5(size, body.seed);
            const pids = worker.workerPids();
            await new Promise((r) => setTimeout(r, 200));
            const sampler = sampleRss(pids, 10);
            const sent = await putThroughWorker(worker.url, chat, body);
            const trace = sampler.stop();
            const outcome = await verifyUpload(stack, sent, body, true);
            const peakRss = Math.max(trace.peakRss, trace.hwmReset ? trace.endHwm : 0);
            samples.push({
              runtime,
              size,
              run,
              ms: outcome.ms,
              idleRss: trace.startRss,
              peakRss,
              pids,
              trace: { ...trace, samples: thin(trace.samples, 200) },
              error: outcome.error,
            });
            log(
              `memory ${runtime} ${mibText(size)} run ${run + 1}: idle ${
                mibText(trace.startRss)
              }, ` +
                `peak ${mibText(peakRss)}, growth ${mibText(peakRss - trace.startRss)}${
                  outcome.error ? ` ERROR ${outcome.error}` : ""
                }`,
            );
          }
        }
      } finally {
        await worker.close();
      }
    }
  } finally {
    await stack.close();
  }
  return summarize(plan, samples);
}

function summarize(plan: Plan, samples: MemorySample[]): FigureResult {
  const rows: Row[] = [];
  const curves: string[] = [];
  for (const runtime of ["workerd", "deno"] as const) {
    const growths: number[] = [];
    for (const size of plan.memorySizes) {
      const runs = samples.filter((s) => s.runtime === runtime && s.size === size);
      const errors = runs.filter((s) => s.error);
      const growth = Math.max(...runs.map((s) => s.peakRss - s.idleRss));
      growths.push(growth);
      const met = errors.length === 0 && growth <= MEMORY_TARGET_BYTES;
      rows.push({
        figure: "memory",
        measure: `${mibText(size)} body via ${runtime}: peak RSS − idle`,
        result: `${mibText(growth)} (idle ${mibText(runs[0]?.idleRss ?? 0)}, ${runs.length} run${
          runs.length === 1 ? "" : "s"
        }, worst shown${errors.length ? `, ${errors.length} errors` : ""})`,
        target: "≤ 16 MiB, independent of size",
        verdict: met ? "met" : "missed",
        miss: met
          ? undefined
          : errors.length
          ? `${errors.length} failed uploads`
          : `by ${mibText(growth - MEMORY_TARGET_BYTES)}`,
      });
      const worst = runs.reduce((a, b) => (b.peakRss - b.idleRss > a.peakRss - a.idleRss ? b : a));
      curves.push(
        `- ${runtime}, ${mibText(size)}: ${sparkline(worst.trace.samples, worst.idleRss)}`,
      );
    }
    const spreadBytes = Math.max(...growths) - Math.min(...growths);
    const independent = spreadBytes <= 4 * MiB;
    rows.push({
      figure: "memory",
      measure: `${runtime}: growth at ${mibText(Math.max(...plan.memorySizes))} − at ${
        mibText(Math.min(...plan.memorySizes))
      }`,
      result: mibText(spreadBytes),
      target: "≈ 0 (≤ 4 MiB): flat in body size",
      verdict: independent ? "met" : "missed",
      miss: independent ? undefined : `by ${mibText(spreadBytes - 4 * MiB)}`,
    });
  }
  return {
    figure: "memory",
    rows,
    notes: [
      "Each upload streams one generated body through the worker after three warm-up " +
      "uploads. Resident memory (VmRSS) of the worker's processes — the workerd process " +
      "that serves it (Miniflare's; with `--launcher wrangler`, every workerd under " +
      "wrangler), or the Deno server — is sampled every 10 ms; the kernel's peak " +
      "(VmHWM) is reset just before the upload (`/proc/<pid>/clear_refs`) and read after " +
      "it. Growth = the higher of the two peaks − the RSS just before the upload.",
      "RSS over the upload, relative to idle (each mark is one sample, ▁ = idle, █ = the " +
      "peak of that line), with the peak growth:",
      curves.join("\n"),
    ],
    data: { samples },
  };
}

/** Keeps at most `max` evenly spaced samples, the peak included. */
function thin(samples: [number, number][], max: number): [number, number][] {
  if (samples.length <= max) return samples;
  const step = samples.length / max;
  const kept: [number, number][] = [];
  for (let i = 0; i < max; i++) kept.push(samples[Math.floor(i * step)]);
  const peak = samples.reduce((a, b) => (b[1] > a[1] ? b : a));
  if (!kept.includes(peak)) kept.push(peak);
  return kept.sort((a, b) => a[0] - b[0]);
}

/** A one-line picture of an RSS curve above its idle level. */
function sparkline(samples: [number, number][], idle: number): string {
  const marks = "▁▂▃▄▅▆▇█";
  const picked = thin(samples, 48);
  const top = Math.max(...picked.map(([, rss]) => rss - idle), 1);
  const line = picked.map(([, rss]) =>
    marks[Math.min(7, Math.max(0, Math.round(((rss - idle) / top) * 7)))]
  ).join("");
  return `\`${line}\` peak +${mibText(top)} over ${
    ((picked.at(-1)?.[0] ?? 0) / 1000).toFixed(1)
  } s`;
}
