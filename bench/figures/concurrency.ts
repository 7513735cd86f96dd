/**
 * Concurrency: rounds of many simultaneous uploads through workerd against as many
 * simultaneous direct `PUT`s: errors, aggregate throughput and the worker's memory, beside
 * the memory of two control workers under the same load in workerd: one that only reads the
 * bodies, and the bare three calls on the AWS SDK.
 *
 * @module
 */

import type { ChatSession } from "../../local/chat.ts";
import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { countCpu, loadAverage, sampleRss } from "../../testing/processes.ts";
import { launchStack } from "../stack.ts";
import { median, MiB, spread } from "../stats.ts";
import {
  prepareDirect,
  putDirect,
  putThroughWorker,
  type UploadOutcome,
  verifyUpload,
} from "../uploads.ts";
import {
  type BenchWorker,
  type ControlWorker,
  launchControlWorker,
  launchWorker,
} from "../workers.ts";
import { MEMORY_TARGET_BYTES } from "./memory.ts";
import { mibText } from "./throughput.ts";

const TARGET_RATIO = 0.8;

/** The controls: the same uploads, to workers that are not the upload worker. */
const CONTROLS: readonly ControlWorker[] = ["read-body", "sdk"];

/** What each control is, for the table. */
const CONTROL_LABELS: Record<ControlWorker, string> = {
  "read-body": "a worker that only reads each body (no upstream call)",
  sdk: "the bare three calls on @aws-sdk/client-connectparticipant",
};

/** One round of one path: direct, the upload worker, or a control. */
interface Round {
  path: "direct" | "workerd" | ControlWorker;
  round: number;
  /** Wall time from the first request to the last answer. */
  ms: number;
  errors: string[];
  /** For a worker: RSS before the round, and its peak during it (summed over workerd). */
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
  const workers = new Map<"workerd" | ControlWorker, BenchWorker>();
  const closeAll = async () => {
    for (const running of workers.values()) await running.close().catch(() => {});
    await stack.close();
  };
  try {
    workers.set("workerd", await launchWorker("workerd", stack, size, plan.launcher));
    for (const kind of CONTROLS) workers.set(kind, await launchControlWorker(kind, stack));
  } catch (error) {
    await closeAll();
    throw error;
  }
  const worker = workers.get("workerd")!;
  const rounds: Round[] = [];
  const groups = (target: BenchWorker = worker) => ({
    client: [Deno.pid],
    worker: target.workerPids(),
    service: [stack.servicePid],
    s3: [stack.s3Pid],
  });
  try {
    // One chat per simultaneous upload, as many customers at once.
    const chats: ChatSession[] = [];
    for (let i = 0; i < n; i++) chats.push(await stack.openChat());
    // Warm-up round through each worker, untimed.
    await Promise.all(chats.map(async (chat, i) => {
      const body = { size, seed: 20_000 + i };
      await verifyUpload(stack, await putThroughWorker(worker.url, chat, body), body, true);
      for (const kind of CONTROLS) await putThroughWorker(workers.get(kind)!.url, chat, body);
    }));
    const paths = ["direct", "workerd", ...CONTROLS] as const;
    for (let round = 0; round < plan.concurrencyRounds; round++) {
      // Each path goes first in turn.
      const order = paths.map((_, i) => paths[(i + round) % paths.length]);
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
          const target = workers.get(path)!;
          const pids = target.workerPids();
          await stack.timings();
          cpu = countCpu(groups(target));
          const sampler = sampleRss(pids, 10);
          const started = performance.now();
          outcomes = await Promise.all(
            chats.map((chat, i) => putThroughWorker(target.url, chat, bodies[i])),
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
        // The controls' uploads are not checked: only their answers count.
        const checked = path !== "direct" && path !== "workerd" ? outcomes : await Promise.all(
          outcomes.map((o, i) => verifyUpload(stack, o, bodies[i], path === "workerd")),
        );
        const errors = checked.filter((o) => o.error).map((o) => o.error!);
        rounds.push({ path, round, ms, errors, idleRss, peakRss, cpu: used, service });
        log(
          `concurrency round ${round + 1} ${path}: ${ms.toFixed(0)} ms, ${errors.length} errors` +
            (peakRss !== undefined ? `, ${path} workerd +${mibText(peakRss - idleRss!)}` : ""),
        );
      }
    }
  } finally {
    await closeAll();
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
  const memory = (path: "workerd" | ControlWorker) => {
    const list = of(path);
    const idleFirst = list[0]?.idleRss ?? 0;
    const idleLast = list.at(-1)?.idleRss ?? 0;
    return {
      idleFirst,
      idleLast,
      // Bounded means: never far above where the process stood before the load began.
      overall: Math.max(...list.map((r) => r.peakRss!)) - idleFirst,
      perRound: (idleLast - idleFirst) / Math.max(1, list.length - 1),
    };
  };
  const { idleFirst, idleLast, overall, perRound } = memory("workerd");
  const controls = CONTROLS.map((kind) => ({
    kind,
    ...memory(kind),
    errors: of(kind).flatMap((r) => r.errors),
  }));
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
            ? `: the idle RSS climbs ${mibText(perRound)} per round (the controls: ${
              controls.map((c) => `${c.kind} ${mibText(c.perRound)}`).join(", ")
            })`
            : ""
        }`,
    },
    ...controls.map((c): Row => ({
      figure: "concurrency",
      measure: `${label}: the same load on ${CONTROL_LABELS[c.kind]}, workerd peak RSS − idle`,
      result: `${mibText(c.overall)} (idle ${mibText(c.idleFirst)} → ${
        mibText(c.idleLast)
      } from first to last round; ${c.errors.length} failed)`,
      target: "for comparison",
      verdict: "info",
    })),
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
      "Two controls run in a workerd each, started the same way (Miniflare), and take the " +
      "same bodies over the same kind of connection in the same rounds: " +
      "`bench/control_worker.js` reads each body to its end and answers 201, with no " +
      "upstream call and nothing kept; `bench/bundle/sdk_worker.ts` makes the bare three " +
      "calls on `@aws-sdk/client-connectparticipant` (start, `PUT` of the body, complete), " +
      "with none of this project's code. What their memory does under the load is workerd's " +
      "own: with no upstream calls, and with the same calls made by other code. Resident " +
      "memory before each round (MiB): " +
      CONTROLS.map((kind) =>
        `${kind}: ${of(kind).map((r) => (r.idleRss! / MiB).toFixed(1)).join(" → ")}`
      ).join("; ") + ".",
      `Load average (1 min) at the end: ${loadAverage().toFixed(2)}. Where the time goes, ` +
      "per round (medians): wall time, CPU seconds by process, and the Participant " +
      "Service's summed handling time of the calls made during the round (the direct " +
      "rounds make their start calls before the clock starts):",
      [
        "| path | wall ms | client CPU s | worker CPU s | service CPU s | S3 CPU s | start calls ms | complete calls ms |",
        "|---|---|---|---|---|---|---|---|",
        ...(["direct", "workerd", ...CONTROLS] as const).map((path) => {
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
