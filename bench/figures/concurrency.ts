/**
 * Concurrency: rounds of many simultaneous uploads through workerd against as many
 * simultaneous direct `PUT`s: errors, aggregate throughput and the worker's memory.
 *
 * @module
 */

import type { ChatSession } from "../../local/chat.ts";
import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { countCpu, loadAverage, sampleRss } from "../procs.ts";
import { launchStack } from "../stack.ts";
import { median, MiB, spread } from "../stats.ts";
import {
  prepareDirect,
  putDirect,
  putThroughWorker,
  type UploadOutcome,
  verifyUpload,
} from "../uploads.ts";
import { launchWorker } from "../workers.ts";
import { MEMORY_TARGET_BYTES } from "./memory.ts";
import { mibText } from "./throughput.ts";

const TARGET_RATIO = 0.8;

/** One round of one path. */
interface Round {
  path: "direct" | "workerd";
  round: number;
  /** Wall time from the first request to the last answer. */
  ms: number;
  errors: string[];
  /** For the worker: RSS before the round, and its peak during it (summed over workerd). */
  idleRss?: number;
  peakRss?: number;
  /** CPU seconds by process group during the round. */
  cpu: Record<string, number>;
  /** The Participant Service's summed handling time by operation during the round, in ms. */
  service: Record<string, number>;
}

/**
 * Runs the concurrency figure.
 *
 * @param plan Concurrency, rounds and body size.
 * @param log Progress lines.
 * @returns Rows: errors, throughput ratio, memory.
 */
export async function concurrencyFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const { concurrency: n, concurrencySize: size } = plan;
  const stack = await launchStack({ maxAttachmentBytes: size });
  const worker = await launchWorker("workerd", stack, size, plan.launcher).catch(async (error) => {
    await stack.close();
    throw error;
  });
  const rounds: Round[] = [];
  const groups = () => ({
    client: [Deno.pid],
    worker: worker.workerPids(),
    service: [stack.servicePid],
    s3: [stack.s3Pid],
  });
  try {
    // One chat per simultaneous upload, as many customers at once.
    const chats: ChatSession[] = [];
    for (let i = 0; i < n; i++) chats.push(await stack.openChat());
    // Warm-up round through the worker, untimed.
    await Promise.all(chats.map(async (chat, i) => {
      const body = { size, seed: 20_000 + i };
      await verifyUpload(stack, await putThroughWorker(worker.url, chat, body), body, true);
    }));
    for (let round = 0; round < plan.concurrencyRounds; round++) {
      const order = round % 2 === 0
        ? ["direct", "workerd"] as const
        : ["workerd", "direct"] as const;
      for (const path of order) {
        const bodies = chats.map((_, i) => ({ size, seed: 30_000 + round * n + i }));
        let outcomes: UploadOutcome[];
        let ms: number;
        let cpu: ReturnType<typeof countCpu>;
        let idleRss: number | undefined;
        let peakRss: number | undefined;
        if (path === "direct") {
          const prepared = await Promise.all(
            chats.map((chat, i) => prepareDirect(stack, chat, bodies[i])),
          );
          await stack.timings();
          cpu = countCpu(groups());
          const started = performance.now();
          outcomes = await Promise.all(prepared.map((p, i) => putDirect(p, bodies[i])));
          ms = performance.now() - started;
        } else {
          const pids = worker.workerPids();
          await stack.timings();
          cpu = countCpu(groups());
          const sampler = sampleRss(pids, 10);
          const started = performance.now();
          outcomes = await Promise.all(
            chats.map((chat, i) => putThroughWorker(worker.url, chat, bodies[i])),
          );
          ms = performance.now() - started;
          const trace = sampler.stop();
          idleRss = trace.startRss;
          peakRss = Math.max(trace.peakRss, trace.hwmReset ? trace.endHwm : 0);
        }
        const used = cpu.stop();
        const service = Object.fromEntries(
          Object.entries(await stack.timings()).map(([op, list]) => [
            op,
            list.reduce((a, b) => a + b, 0),
          ]),
        );
        const checked = await Promise.all(
          outcomes.map((o, i) => verifyUpload(stack, o, bodies[i], path === "workerd")),
        );
        const errors = checked.filter((o) => o.error).map((o) => o.error!);
        rounds.push({ path, round, ms, errors, idleRss, peakRss, cpu: used, service });
        log(
          `concurrency round ${round + 1} ${path}: ${ms.toFixed(0)} ms, ${errors.length} errors` +
            (peakRss !== undefined ? `, workerd +${mibText(peakRss - idleRss!)}` : ""),
        );
      }
    }
  } finally {
    await worker.close();
    await stack.close();
  }
  return summarize(plan, rounds);
}

function summarize(plan: Plan, rounds: Round[]): FigureResult {
  const { concurrency: n, concurrencySize: size } = plan;
  const of = (path: Round["path"]) => rounds.filter((r) => r.path === path);
  const rate = (r: Round) => (n * size) / 1e6 / (r.ms / 1000);
  const direct = spread(of("direct").map(rate));
  const through = spread(of("workerd").map(rate));
  const ratio = through.median / direct.median;
  const workerErrors = of("workerd").flatMap((r) => r.errors);
  const directErrors = of("direct").flatMap((r) => r.errors);
  const growth = Math.max(...of("workerd").map((r) => r.peakRss! - r.idleRss!));
  const idleFirst = of("workerd")[0]?.idleRss ?? 0;
  const idleLast = of("workerd").at(-1)?.idleRss ?? 0;
  // Bounded means: never far above where the process stood before the load began.
  const overall = Math.max(...of("workerd").map((r) => r.peakRss!)) - idleFirst;
  const label = `${n} × ${mibText(size)}, ${plan.concurrencyRounds} rounds`;
  const rows: Row[] = [
    {
      figure: "concurrency",
      measure: `${label}: failed uploads via workerd`,
      result: `${workerErrors.length} of ${
        n * plan.concurrencyRounds
      } (direct: ${directErrors.length})`,
      target: "0",
      verdict: workerErrors.length === 0 ? "met" : "missed",
      miss: workerErrors.length ? `${workerErrors.length} failed: ${workerErrors[0]}` : undefined,
    },
    {
      figure: "concurrency",
      measure: `${label}: aggregate throughput via workerd vs direct`,
      result: `${ratio.toFixed(2)}× (${through.median.toFixed(0)} vs ${
        direct.median.toFixed(0)
      } MB/s; worker min/max ${through.min.toFixed(0)}/${through.max.toFixed(0)}, direct ${
        direct.min.toFixed(0)
      }/${direct.max.toFixed(0)})`,
      target: `≥ ${TARGET_RATIO.toFixed(2)}× direct`,
      verdict: ratio >= TARGET_RATIO ? "met" : "missed",
      miss: ratio >= TARGET_RATIO ? undefined : `by ${(TARGET_RATIO - ratio).toFixed(2)}`,
    },
    {
      figure: "concurrency",
      measure: `${label}: workerd peak RSS − idle before the first round`,
      result: `${mibText(overall)} (per round: worst ${mibText(growth)}, median ${
        mibText(median(of("workerd").map((r) => r.peakRss! - r.idleRss!)))
      }; idle ${mibText(idleFirst)} → ${mibText(idleLast)} from first to last round)`,
      target: "≤ 16 MiB",
      verdict: overall <= MEMORY_TARGET_BYTES ? "met" : "missed",
      miss: overall <= MEMORY_TARGET_BYTES
        ? undefined
        : `by ${mibText(overall - MEMORY_TARGET_BYTES)}${
          idleLast - idleFirst > 4 * MiB
            ? `: the idle RSS climbs ${
              mibText((idleLast - idleFirst) / Math.max(1, of("workerd").length - 1))
            } per round`
            : ""
        }`,
    },
  ];
  return {
    figure: "concurrency",
    rows,
    notes: [
      `Each round sends ${n} bodies of ${mibText(size)} at once, from ${n} chats: straight ` +
      "to pre-signed URLs (the start calls made beforehand, untimed), or as one request " +
      "each through the worker in workerd; rounds alternate which path goes first. " +
      "Aggregate throughput = bytes of the round / wall time of the round. Every upload is " +
      "checked in S3 afterwards.",
      `workerd's resident memory before each round (MiB): ${
        of("workerd").map((r) => (r.idleRss! / MiB).toFixed(1)).join(" → ")
      }; its peak during each round (MiB): ${
        of("workerd").map((r) => (r.peakRss! / MiB).toFixed(1)).join(", ")
      }.`,
      `Load average (1 min) at the end: ${loadAverage().toFixed(2)}. Where the time goes, ` +
      "per round (medians): wall time, CPU seconds by process, and the Participant " +
      "Service's summed handling time of the calls made during the round (the direct " +
      "rounds make their start calls before the clock starts):",
      [
        "| path | wall ms | client CPU s | worker CPU s | service CPU s | S3 CPU s | start calls ms | complete calls ms |",
        "|---|---|---|---|---|---|---|---|",
        ...(["direct", "workerd"] as const).map((path) => {
          const list = of(path);
          const m = (f: (r: Round) => number) => median(list.map(f));
          return `| ${path} | ${m((r) => r.ms).toFixed(0)} | ${
            m((r) => r.cpu.client).toFixed(2)
          } | ${m((r) => r.cpu.worker).toFixed(2)} | ${m((r) => r.cpu.service).toFixed(2)} | ${
            m((r) => r.cpu.s3).toFixed(2)
          } | ${m((r) => r.service.StartAttachmentUpload ?? 0).toFixed(0)} | ${
            m((r) => r.service.CompleteAttachmentUpload ?? 0).toFixed(0)
          } |`;
        }),
      ].join("\n"),
    ],
    data: { rounds },
  };
}
