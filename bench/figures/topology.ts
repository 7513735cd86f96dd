/**
 * The topologies users have (`bench/topologies.ts`): one request through the worker at the
 * user's edge and next to AWS, each against the client's own three calls from the same
 * place, for each body size, with connection set-up and bandwidth counted.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { percentile } from "../stats.ts";
import { putThroughWorker, threeCalls, type UploadOutcome, verifyUpload } from "../uploads.ts";
import { createParticipantClient } from "../../src/_core/client.ts";
import { mibText } from "./throughput.ts";
import {
  ConnectionTally,
  coolDown,
  keepWarm,
  launchTopologies,
  modelMs,
  pathLabel,
  PATHS,
  type Topologies,
  type TopologyPath,
  workerOf,
} from "../topologies.ts";
import type { ChatSession } from "../../local/chat.ts";

/** One timed upload. */
interface TopologySample {
  size: number;
  path: TopologyPath;
  ms: number;
  error?: string;
}

/**
 * Runs the topology figure.
 *
 * @param plan The sizes, uploads, round trips, bandwidth and set-up cost (`plan.topology`).
 * @param log Progress lines.
 * @returns Per size: the three-call baseline, and each worker topology as a ratio against it.
 */
export async function topologyFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const t = plan.topology;
  const maxAttachmentBytes = Math.max(...t.sizes);
  const topologies = await launchTopologies(t, maxAttachmentBytes, plan.launcher);
  const samples: TopologySample[] = [];
  const counts = new ConnectionTally(topologies);
  try {
    const edge = await topologies.edge.stack.openChat();
    const near = await topologies.near.stack.openChat();
    const chats: Record<TopologyPath, ChatSession> = {
      "three-call": await topologies.direct.openChat(),
      edge,
      near,
      "edge-cold": edge,
      "near-cold": near,
    };
    // Warm-ups open the worker's upstream connections, which it keeps, as a worker in use
    // does; the client's connections are new for every upload.
    const warmups = 2;
    for (const size of t.sizes) {
      for (let i = -warmups; i < t.uploads; i++) {
        const body = { size, seed: 20_000 + size % 997 + i };
        const order = PATHS.map((_, k) => PATHS[(k + i + warmups) % PATHS.length]);
        for (const path of order) {
          const outcome = await upload(
            topologies,
            path,
            chats[path],
            body,
            i >= 0 ? counts : undefined,
          );
          if (i >= 0) samples.push({ size, path, ms: outcome.ms, error: outcome.error });
          if (outcome.error) log(`topology ${mibText(size)} ${path} #${i}: ERROR ${outcome.error}`);
        }
      }
      log(`topology ${mibText(size)}: ${t.uploads} uploads per path`);
    }
  } finally {
    await topologies.close();
  }
  return summarize(plan, samples, counts);
}

/** One upload on a path, timed, then checked in S3 (size, MD5, completion). */
async function upload(
  topologies: Topologies,
  path: TopologyPath,
  chat: ChatSession,
  body: { size: number; seed: number },
  tally: ConnectionTally | undefined,
): Promise<UploadOutcome> {
  const timed = <T>(run: () => Promise<T>) => tally ? tally.around(path, run) : run();
  if (path === "three-call") {
    const stack = topologies.direct;
    // New connections for this upload only, as a client's first upload opens them: Start and
    // Complete share one (kept alive), the PUT opens its own.
    const connections = Deno.createHttpClient({});
    try {
      const client = createParticipantClient({
        endpoint: stack.participantUrl,
        fetch: (input, init) => fetch(input, { ...init, client: connections }),
      });
      const outcome = await timed(() => threeCalls(stack, chat, body, client));
      return await verifyUpload(stack, outcome, body, true);
    } finally {
      connections.close();
    }
  }
  const worker = topologies[workerOf(path)];
  const { stack, front } = worker;
  if (path.endsWith("-cold")) await coolDown(worker);
  else await keepWarm(worker, chat);
  const outcome = await timed(() => putThroughWorker(front.url, chat, body));
  return await verifyUpload(stack, outcome, body, true);
}

/**
 * The rows of a topology table (this figure's and the browser figure's): per size, the
 * baseline, then each worker topology's p50 as a ratio of the baseline's.
 *
 * @param figure The figure the rows belong to.
 * @param plan The topology plan.
 * @param sizes The sizes measured.
 * @param samples The timed uploads.
 * @param paths The paths measured, the three-call baseline first.
 * @param labels The label of each path in this figure.
 * @param model Whether to show the model's figure beside each measurement.
 * @returns The rows.
 */
export function topologyRows(
  figure: "topology" | "browser",
  plan: Plan["topology"],
  sizes: number[],
  samples: { size: number; path: TopologyPath; ms: number; error?: string }[],
  paths: readonly TopologyPath[],
  labels: Partial<Record<TopologyPath, string>>,
  model = true,
): Row[] {
  const rows: Row[] = [];
  const stats = (size: number, path: TopologyPath) => {
    const mine = samples.filter((s) => s.size === size && s.path === path);
    const ok = mine.filter((s) => !s.error).map((s) => s.ms);
    return {
      p50: percentile(ok, 50),
      min: ok.length ? Math.min(...ok) : NaN,
      max: ok.length ? Math.max(...ok) : NaN,
      n: ok.length,
      errors: mine.length - ok.length,
    };
  };
  const tail = (s: ReturnType<typeof stats>, path: TopologyPath, size: number) =>
    `min ${s.min.toFixed(0)}, max ${s.max.toFixed(0)}${
      model ? `, model ${modelMs(plan, path, size).toFixed(0)}` : ""
    } ms, n=${s.n}${s.errors ? `, ${s.errors} errors` : ""}`;
  for (const size of sizes) {
    const base = stats(size, "three-call");
    rows.push({
      figure,
      measure: `${mibText(size)}: ${labels["three-call"]}`,
      result: `p50 ${base.p50.toFixed(0)} ms (${tail(base, "three-call", size)})`,
      target: "baseline",
      verdict: base.errors ? "missed" : "info",
      miss: base.errors ? `${base.errors} errors` : undefined,
    });
    for (const path of paths.filter((p) => p !== "three-call")) {
      const s = stats(size, path);
      const ratio = s.p50 / base.p50;
      const saved = base.p50 - s.p50;
      const wins = ratio < 1;
      rows.push({
        figure,
        measure: `${mibText(size)}: ${labels[path]}`,
        result: `p50 ${s.p50.toFixed(0)} ms = ${ratio.toFixed(2)}× (a), ${
          Math.abs(saved).toFixed(0)
        } ms ${saved >= 0 ? "faster" : "slower"} (${tail(s, path, size)})`,
        target: "< 1.00× (a): one request wins",
        verdict: wins && s.errors === 0 ? "met" : "missed",
        miss: s.errors ? `${s.errors} errors` : wins ? undefined : `${ratio.toFixed(2)}×`,
      });
    }
  }
  return rows;
}

function summarize(
  plan: Plan,
  samples: TopologySample[],
  counts: ConnectionTally,
): FigureResult {
  const t = plan.topology;
  const labels = Object.fromEntries(PATHS.map((p) => [p, pathLabel(t, p)])) as Record<
    TopologyPath,
    string
  >;
  return {
    figure: "topology",
    rows: topologyRows("topology", t, t.sizes, samples, PATHS, labels),
    notes: topologyNotes(t).concat(
      `Each path uploads ${t.uploads} bodies per size (after 2 warm-ups), interleaved and ` +
        "rotated; p50 is reported with min, max and the model's figure (the round trips and " +
        "the body's time on the long link, no processing). Every upload is checked in S3 " +
        "afterwards (size, MD5, completion). The client is Deno: the three calls are the " +
        "project's sendAttachment on a connection pool of their own per upload; the worker " +
        "path is one PUT on a new connection.",
      'The rows marked "its AWS connections cold" run (b) and (c) again with the ' +
        "worker's upstream connections cut just before the upload, as after an idle spell " +
        "(workerd drops pooled connections idle for about 5 s here, and servers close idle " +
        `ones): its connection to the service and its connection to S3 then each pay ` +
        `${t.setupRoundTrips} round trips of the worker↔AWS link — ` +
        `${2 * t.setupRoundTrips * t.edge.awsRttMs} ms at the edge, ` +
        `${2 * t.setupRoundTrips * t.near.awsRttMs} ms next to AWS. How warm they are on ` +
        "Cloudflare depends on the traffic through that data center.",
      `Connections opened per timed upload, counted at the proxies: ${counts.describe()}.`,
    ),
    data: { samples, connections: counts.perUpload() },
  };
}

/**
 * How the topologies are modelled, for the notes of this figure and the browser's.
 *
 * @param t The topology plan.
 * @returns Paragraphs.
 */
export function topologyNotes(t: Plan["topology"]): string[] {
  return [
    `Three paths from a client ${t.clientAwsRttMs} ms from AWS ("AWS" is the local ` +
    "Participant Service and S3): (a) the client's own three calls (StartAttachmentUpload, " +
    "PUT to S3, CompleteAttachmentUpload) over that link; (b) one request to the worker in " +
    `the data center nearest the user (client↔worker ${t.edge.clientRttMs} ms), which makes ` +
    `the three calls over ${t.edge.awsRttMs} ms; (c) one request to the worker placed next ` +
    `to AWS (client↔worker ${t.near.clientRttMs} ms, worker↔AWS ${t.near.awsRttMs} ms). ` +
    "Each ratio is against (a) from the same place.",
    "Each link is a TCP proxy (testing/proxy.ts with testing/link.ts) that adds its round-trip " +
    `time. The long links (client↔AWS, the edge worker↔AWS, client↔worker next to AWS) ` +
    `carry ${t.longLinkMbps} Mbit/s in each direction, so a body's transfer time shows; the ` +
    "short links are not limited (loopback). The proxies speak plain HTTP, so TLS is " +
    `modelled: every new connection pays ${t.setupRoundTrips} round trips of its link ` +
    "before its first byte (TCP's handshake and TLS 1.3's); a kept-alive connection pays " +
    "nothing more. The worker's upstream connections are kept warm, as in a worker in use: " +
    "a small untimed upload straight to the worker just before each timed one (workerd " +
    "drops pooled connections idle for about 5 s here). Not modelled: TCP slow start (a new long " +
    "connection would need several more round trips to reach full speed on 1 MiB and up: " +
    "that would cost (a) and (c) more than (b), whose long link is the worker's warm one), " +
    "packet loss, and the real services' processing times (the local ones are used).",
  ];
}
