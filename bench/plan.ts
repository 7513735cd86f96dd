/**
 * What a benchmark run measures and how much: the full suite, or the quick smoke run.
 *
 * @module
 */

import { MiB } from "./stats.ts";
import type { Launcher } from "./workers.ts";

/** The figures, in the order they run. */
export const FIGURES = [
  "throughput",
  "memory",
  "latency",
  "concurrency",
  "bundle",
  "coldstart",
  "curl",
  "cost",
  "topology",
  "browser",
] as const;

/** A figure's id. */
export type Figure = typeof FIGURES[number];

/** How much each figure measures. */
export interface Plan {
  /** `full` or `quick`. */
  mode: "full" | "quick";
  /** The figures to run. */
  figures: Figure[];
  /** Body sizes for the throughput figure. */
  throughputSizes: number[];
  /** Runs per size and path (median reported). */
  throughputRuns: number;
  /** Body sizes for the memory figure. */
  memorySizes: number[];
  /** Uploads per size and runtime for the memory figure. */
  memoryRuns: number;
  /** Body size for the latency figure. */
  latencySize: number;
  /** Uploads per path for the latency figure. */
  latencyUploads: number;
  /** Added round-trip time between the client and AWS, in ms. */
  clientAwsRttMs: number;
  /** Added round-trip time between the worker and AWS, in ms. */
  workerAwsRttMs: number;
  /** Concurrent uploads per round. */
  concurrency: number;
  /** Rounds per path. */
  concurrencyRounds: number;
  /** Body size of each concurrent upload. */
  concurrencySize: number;
  /** Cold starts of bare workerd. */
  coldStarts: number;
  /** Cold starts of `wrangler dev`. */
  wranglerColdStarts: number;
  /** Whether to record CPU profiles of the Deno processes. */
  cpuProfile: boolean;
  /** How workerd is started for the upload figures. */
  launcher: Launcher;
  /** Body size of the `curl -T` figure (over 1 MiB, where curl sends `Expect: 100-continue`). */
  curlSize: number;
  /** Runs per path of the `curl -T` figure (median reported). */
  curlRuns: number;
  /** Body sizes of the cost figure (CPU time and subrequests per upload). */
  costSizes: number[];
  /** Uploads per size of the cost figure (median reported). */
  costRuns: number;
  /** The topology and browser figures: where the worker runs, and the links between. */
  topology: TopologyPlan;
}

/**
 * The topologies users have: the client's own three calls, and one request to the worker at
 * the user's edge or placed next to AWS. Round trips in ms; the long links are limited to
 * `longLinkMbps`, the short ones are not.
 */
export interface TopologyPlan {
  /** Body sizes. */
  sizes: number[];
  /** Uploads per size and path from a Deno client. */
  uploads: number;
  /** Body sizes in the browser. */
  browserSizes: number[];
  /** Uploads per size and path in the browser (each in a fresh browser context). */
  browserUploads: number;
  /** (a) The client's round trip to AWS. */
  clientAwsRttMs: number;
  /** (b) The worker at the user's edge: its round trips to the client and to AWS. */
  edge: { clientRttMs: number; awsRttMs: number };
  /** (c) The worker placed next to AWS: its round trips to the client and to AWS. */
  near: { clientRttMs: number; awsRttMs: number };
  /** Bandwidth of the long links, each direction, in Mbit/s. */
  longLinkMbps: number;
  /** Round trips a new connection pays before its first byte (TCP + TLS 1.3: 2). */
  setupRoundTrips: number;
}

/** The full suite: every row of the benchmark issue, in under 10 minutes on 2 cores. */
export const FULL_PLAN: Plan = {
  mode: "full",
  figures: [...FIGURES],
  throughputSizes: [1 * MiB, 20 * MiB, 200 * MiB],
  throughputRuns: 5,
  memorySizes: [200 * MiB, 1024 * MiB],
  memoryRuns: 2,
  latencySize: 100 * 1024,
  latencyUploads: 200,
  clientAwsRttMs: 80,
  workerAwsRttMs: 10,
  concurrency: 64,
  concurrencyRounds: 10,
  concurrencySize: 1 * MiB,
  coldStarts: 7,
  wranglerColdStarts: 3,
  cpuProfile: false,
  launcher: "miniflare",
  curlSize: 100 * MiB,
  // More runs than the other figures: on two shared cores, single uploads of 100 MiB spread
  // by ±15%, and this figure's target sits within that.
  curlRuns: 9,
  costSizes: [1 * MiB, 20 * MiB, 100 * MiB],
  costRuns: 5,
  topology: {
    sizes: [100 * 1024, 1 * MiB, 20 * MiB],
    uploads: 10,
    browserSizes: [100 * 1024, 1 * MiB, 20 * MiB],
    browserUploads: 5,
    clientAwsRttMs: 80,
    edge: { clientRttMs: 10, awsRttMs: 70 },
    near: { clientRttMs: 80, awsRttMs: 2 },
    longLinkMbps: 100,
    setupRoundTrips: 2,
  },
};

/** The quick smoke run: every row, tiny sizes, about a minute. */
export const QUICK_PLAN: Plan = {
  ...FULL_PLAN,
  mode: "quick",
  throughputSizes: [256 * 1024, 2 * MiB],
  throughputRuns: 2,
  memorySizes: [4 * MiB, 16 * MiB],
  memoryRuns: 1,
  latencySize: 100 * 1024,
  latencyUploads: 10,
  clientAwsRttMs: 20,
  workerAwsRttMs: 5,
  concurrency: 8,
  concurrencyRounds: 2,
  concurrencySize: 256 * 1024,
  coldStarts: 2,
  wranglerColdStarts: 1,
  curlSize: 2 * MiB,
  curlRuns: 2,
  costSizes: [256 * 1024, 2 * MiB],
  costRuns: 2,
  topology: {
    ...FULL_PLAN.topology,
    sizes: [100 * 1024, 1 * MiB],
    uploads: 1,
    browserSizes: [100 * 1024],
    browserUploads: 1,
  },
};
