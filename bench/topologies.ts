/**
 * The topologies users have, as local networks: "AWS" (the local Participant Service and
 * S3) behind TCP proxies that add a round-trip time, a bandwidth limit on the long links and
 * a set-up cost per new connection (`testing/link.ts`), and the upload worker in workerd behind
 * a proxy of the same kind on the client's side.
 *
 * - (a) `three-call`: the client calls AWS itself, over the long link.
 * - (b) `edge`: the worker in the Cloudflare data center nearest the user: a short link to
 *   the client, a long one to AWS.
 * - (c) `near`: the worker placed next to AWS (placement hints): the long link between the
 *   client and the worker, a short one to AWS.
 *
 * Each path has its own "AWS" (the same local servers, started once per path), because a
 * pre-signed URL names the S3 host it is signed for: the one behind that path's link.
 *
 * @module
 */

import type { TopologyPlan } from "./plan.ts";
import { type BenchStack, launchStack } from "./stack.ts";
import { startProxy, type TcpProxy } from "../testing/proxy.ts";
import type { LinkShape } from "../testing/link.ts";
import { type StartedWorker, startWorker } from "../testing/worker.ts";
import type { Launcher } from "./workers.ts";
import { putThroughWorker } from "./uploads.ts";
import type { ChatSession } from "../local/chat.ts";

/**
 * The paths, in the order of the tables: (a), (b), (c), then (b) and (c) again with the
 * worker's upstream connections cold.
 */
export const PATHS = ["three-call", "edge", "near", "edge-cold", "near-cold"] as const;

/** A path's id. */
export type TopologyPath = typeof PATHS[number];

/** The three topologies, the workers' upstream connections warm. */
export const WARM_PATHS = ["three-call", "edge", "near"] as const satisfies TopologyPath[];

/** One of {@link WARM_PATHS}. */
export type WarmPath = typeof WARM_PATHS[number];

/**
 * The worker a path goes through.
 *
 * @param path A worker path.
 * @returns `edge` or `near`.
 */
export function workerOf(path: Exclude<TopologyPath, "three-call">): "edge" | "near" {
  return path.startsWith("edge") ? "edge" : "near";
}

/** A worker topology: the worker, the proxy the client reaches it through, and its AWS. */
export interface WorkerTopology {
  /** The worker's AWS, behind the worker↔AWS link. */
  stack: BenchStack;
  /** The upload worker in workerd. */
  worker: StartedWorker;
  /** The client↔worker link: the URL clients upload to. */
  front: TcpProxy;
}

/** The running topologies. */
export interface Topologies {
  /** (a) The client's AWS, behind the client↔AWS link. */
  direct: BenchStack;
  /** (b) The worker at the user's edge. */
  edge: WorkerTopology;
  /** (c) The worker next to AWS. */
  near: WorkerTopology;
  /** Stops everything. */
  close(): Promise<void>;
}

/**
 * The label of a path for tables, such as `(b) worker at the user's edge (client↔worker
 * 10 ms, worker↔AWS 70 ms)`.
 *
 * @param plan The topology plan.
 * @param path The path.
 * @returns The label.
 */
export function pathLabel(plan: TopologyPlan, path: TopologyPath): string {
  switch (path) {
    case "three-call":
      return `(a) client's three calls (client↔AWS ${plan.clientAwsRttMs} ms)`;
    case "edge":
    case "edge-cold":
      return `(b) worker at the user's edge${
        path === "edge" ? "" : ", its AWS connections cold"
      } ` +
        `(client↔worker ${plan.edge.clientRttMs} ms, worker↔AWS ${plan.edge.awsRttMs} ms)`;
    case "near":
    case "near-cold":
      return `(c) worker next to AWS${path === "near" ? "" : ", its AWS connections cold"} ` +
        `(client↔worker ${plan.near.clientRttMs} ms, worker↔AWS ${plan.near.awsRttMs} ms)`;
  }
}

/**
 * What the model predicts for one upload of `size` bytes on a path, in ms: the round trips
 * each path pays (set-up of the client's new connections included, and of the worker's two
 * upstream connections where they are cold) and the body's time on the long link. No
 * processing time.
 *
 * @param plan The topology plan.
 * @param path The path.
 * @param size The body size.
 * @returns The predicted time.
 */
export function modelMs(plan: TopologyPlan, path: TopologyPath, size: number): number {
  const transfer = (size * 8) / (plan.longLinkMbps * 1000);
  const setup = plan.setupRoundTrips;
  switch (path) {
    case "three-call":
      // Start on a new connection, the PUT on another new one, Complete on the first.
      return (setup + 1 + setup + 1 + 1) * plan.clientAwsRttMs + transfer;
    default: {
      const { clientRttMs, awsRttMs } = plan[workerOf(path)];
      // Cold: the connection to the service (Start, then Complete) and the one to S3 are new.
      const cold = path.endsWith("-cold") ? 2 * setup * awsRttMs : 0;
      return (setup + 1) * clientRttMs + 3 * awsRttMs + cold + transfer;
    }
  }
}

/**
 * Makes the worker use its upstream connections now, so that they are warm for the next
 * upload, as in a worker in use: one small upload, straight to the worker (not through the
 * client's link), untimed. workerd drops pooled connections idle for about 5 s, and the local
 * S3 closes them after 5 s, so without it a path used every few seconds would find them cold.
 *
 * @param topology The worker topology.
 * @param chat A chat on its stack.
 */
export async function keepWarm(topology: WorkerTopology, chat: ChatSession): Promise<void> {
  const outcome = await putThroughWorker(topology.worker.url, chat, { size: 1024, seed: 1 });
  if (outcome.error) throw new Error(`keeping the worker's connections warm: ${outcome.error}`);
}

/**
 * Starts the three paths' AWS, the two workers and their client-side links.
 *
 * @param plan The round trips, bandwidth and set-up cost.
 * @param maxAttachmentBytes The size limit of the services and workers.
 * @param launcher How workerd is started.
 * @param pageOrigin For browser clients: the page's origin, allowed by the buckets' CORS
 * rules and the workers' `CORS_ORIGINS`.
 * @returns The running topologies.
 *
 * @example
 * ```ts ignore
 * import { launchTopologies } from "./topologies.ts";
 * const topologies = await launchTopologies(FULL_PLAN.topology, 20 * 2 ** 20, "miniflare");
 * await topologies.close();
 * ```
 */
export async function launchTopologies(
  plan: TopologyPlan,
  maxAttachmentBytes: number,
  launcher: Launcher,
  pageOrigin?: string,
): Promise<Topologies> {
  const long: LinkShape = {
    bandwidthMbps: plan.longLinkMbps,
    setupRoundTrips: plan.setupRoundTrips,
  };
  const short: LinkShape = { setupRoundTrips: plan.setupRoundTrips };
  const s3CorsOrigins = pageOrigin ? [pageOrigin] : undefined;
  const closers: (() => Promise<void>)[] = [];
  const started = async <T extends { close(): Promise<void> | void }>(thing: Promise<T>) => {
    const running = await thing;
    closers.unshift(async () => await running.close());
    return running;
  };
  const close = async () => {
    for (const closer of closers) await closer().catch(() => {});
  };
  const workerTopology = async (
    rtt: { clientRttMs: number; awsRttMs: number },
    awsLink: LinkShape,
    clientLink: LinkShape,
  ): Promise<WorkerTopology> => {
    const stack = await started(launchStack({
      maxAttachmentBytes,
      latencyMs: rtt.awsRttMs,
      link: awsLink,
      s3CorsOrigins,
    }));
    const worker = await started(startWorker({
      runtime: "workerd",
      launcher,
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(stack.s3PublicUrl).host],
      maxAttachmentBytes,
      corsOrigins: pageOrigin ? [pageOrigin] : undefined,
    }));
    const { hostname, port } = new URL(worker.url);
    const front = await started(Promise.resolve(startProxy({
      target: { hostname, port: Number(port) },
      latencyMs: rtt.clientRttMs,
      link: clientLink,
    })));
    return { stack, worker, front };
  };
  try {
    const direct = await started(launchStack({
      maxAttachmentBytes,
      latencyMs: plan.clientAwsRttMs,
      link: long,
      s3CorsOrigins,
    }));
    const edge = await workerTopology(plan.edge, long, short);
    const near = await workerTopology(plan.near, short, long);
    return { direct, edge, near, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** A link whose new connections {@link ConnectionTally} counts, and how to read its count. */
interface CountedLink {
  name: string;
  path: TopologyPath;
  count(topologies: Topologies, stacks: Map<BenchStack, { service: number; s3: number }>): number;
}

const atStack = (
  name: string,
  path: TopologyPath,
  stack: (t: Topologies) => BenchStack,
  side: "service" | "s3",
): CountedLink => ({ name, path, count: (t, stacks) => stacks.get(stack(t))![side] });

const atFront = (
  name: string,
  path: TopologyPath,
  front: (t: Topologies) => TcpProxy,
): CountedLink => ({ name, path, count: (t) => front(t).stats.connections });

const LINKS: CountedLink[] = [
  atStack("(a) client→service", "three-call", (t) => t.direct, "service"),
  atStack("(a) client→S3", "three-call", (t) => t.direct, "s3"),
  ...(["edge", "near", "edge-cold", "near-cold"] as const).flatMap((path) => {
    const worker = workerOf(path);
    const tag = `(${worker === "edge" ? "b" : "c"}${path.endsWith("-cold") ? ", cold" : ""})`;
    return [
      atFront(`${tag} client→worker`, path, (t) => t[worker].front),
      atStack(`${tag} worker→service`, path, (t) => t[worker].stack, "service"),
      atStack(`${tag} worker→S3`, path, (t) => t[worker].stack, "s3"),
    ];
  }),
];

/**
 * Counts the connections each link's proxy accepts during timed uploads: a new connection
 * pays the set-up round trips, so this shows which paths paid them and which found a warm
 * connection.
 *
 * @example
 * ```ts ignore
 * const tally = new ConnectionTally(topologies);
 * const outcome = await tally.around("edge", () => putThroughWorker(url, chat, body));
 * console.log(tally.describe());
 * ```
 */
export class ConnectionTally {
  readonly #topologies: Topologies;
  readonly #opened: number[] = LINKS.map(() => 0);
  readonly #uploads = new Map<TopologyPath, number>();

  /** @param topologies The running topologies. */
  constructor(topologies: Topologies) {
    this.#topologies = topologies;
  }

  /**
   * Runs one upload on a path and counts the connections its links accepted meanwhile.
   *
   * @param path The path the upload takes.
   * @param upload The upload.
   * @returns What the upload returned.
   */
  async around<T>(path: TopologyPath, upload: () => Promise<T>): Promise<T> {
    const before = await counts(this.#topologies);
    const result = await upload();
    const after = await counts(this.#topologies);
    LINKS.forEach((link, i) => {
      if (link.path === path) this.#opened[i] += after[i] - before[i];
    });
    this.#uploads.set(path, (this.#uploads.get(path) ?? 0) + 1);
    return result;
  }

  /** Connections opened per upload, by link, such as `{"(a) client→S3": 1}` (paths run). */
  perUpload(): Record<string, number> {
    return Object.fromEntries(
      LINKS.flatMap((link, i) => {
        const uploads = this.#uploads.get(link.path) ?? 0;
        return uploads ? [[link.name, this.#opened[i] / uploads]] : [];
      }),
    );
  }

  /** The counts per upload as a sentence fragment. */
  describe(): string {
    return Object.entries(this.perUpload()).map(([name, n]) => `${name} ${n.toFixed(2)}`)
      .join(", ");
  }
}

async function counts(topologies: Topologies): Promise<number[]> {
  const stacks = new Map<BenchStack, { service: number; s3: number }>();
  for (const stack of [topologies.direct, topologies.edge.stack, topologies.near.stack]) {
    stacks.set(stack, await stack.connections());
  }
  return LINKS.map((link) => link.count(topologies, stacks));
}

/**
 * Cuts the worker's upstream connections, as after an idle spell (workerd drops pooled
 * connections idle for about 5 s here, and servers close idle ones), so that the next upload
 * opens new ones and pays their set-up.
 *
 * @param topology The worker topology.
 */
export async function coolDown(topology: WorkerTopology): Promise<void> {
  await topology.stack.cutConnections();
  // Time for workerd to see its pooled connections closed before the next request.
  await new Promise((resolve) => setTimeout(resolve, 50));
}
