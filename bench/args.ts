/**
 * The benchmark's command line.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { type Figure, FIGURES, FULL_PLAN, type Plan, QUICK_PLAN } from "./plan.ts";

/** What the command line asked for. */
export interface BenchOptions {
  /** The plan to run. */
  plan: Plan;
  /** Where the report goes (`results.md`, committed as the benchmark's figures). */
  reportPath: string;
  /** Where every raw sample goes (`results.json`, ignored by git unless `--out` says else). */
  dataPath: string;
  /** Whether to print progress lines. */
  verbose: boolean;
}

/** The usage text. */
export const USAGE = `Usage: deno task bench [options]

  --quick            every row on tiny sizes (smoke run, about a minute)
  --only <figures>   comma-separated: ${FIGURES.join(", ")}
  --runs <n>         runs per size for throughput (default 5)
  --uploads <n>      uploads per path for latency (default 200)
  --client-rtt <ms>  round trip added between client and AWS (default 80)
  --worker-rtt <ms>  round trip added between worker and AWS (default 10)
  --launcher <how>   how workerd starts: miniflare (default) or wrangler (wrangler dev)
  --cpu-prof         record CPU profiles of the Deno worker and the stack, and summarize them
  --out <dir>        where results.md and results.json go (default: the report in
                     bench/results.md, or bench/out/ with --quick; the raw samples in
                     bench/out/results.json)
  --quiet            no progress lines
  --help`;

/**
 * Reads the command line.
 *
 * @param args The arguments, such as `Deno.args`.
 * @returns The options, or a usage message to print.
 *
 * @example
 * ```ts
 * import { parseBenchArgs } from "./args.ts";
 * const options = parseBenchArgs(["--quick", "--only", "bundle"]);
 * ```
 */
export function parseBenchArgs(args: string[]): BenchOptions | { usage: string; error?: string } {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        quick: { type: "boolean", default: false },
        only: { type: "string" },
        runs: { type: "string" },
        uploads: { type: "string" },
        "client-rtt": { type: "string" },
        "worker-rtt": { type: "string" },
        "cpu-prof": { type: "boolean", default: false },
        launcher: { type: "string" },
        out: { type: "string" },
        quiet: { type: "boolean", default: false },
        help: { type: "boolean", default: false },
      },
      strict: true,
    }));
  } catch (error) {
    return { usage: USAGE, error: error instanceof Error ? error.message : String(error) };
  }
  if (values.help) return { usage: USAGE };
  const plan: Plan = { ...(values.quick ? QUICK_PLAN : FULL_PLAN) };
  if (values.only) {
    const asked = values.only.split(",").map((s) => s.trim()).filter(Boolean);
    const unknown = asked.filter((f) => !(FIGURES as readonly string[]).includes(f));
    if (unknown.length) {
      return { usage: USAGE, error: `unknown figure: ${unknown.join(", ")}` };
    }
    plan.figures = FIGURES.filter((f) => asked.includes(f)) as Figure[];
  }
  const count = (name: string, value: string | undefined, min: number) => {
    if (value === undefined) return undefined;
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new RangeError(`--${name} must be an integer ≥ ${min}`);
    }
    return n;
  };
  try {
    plan.throughputRuns = count("runs", values.runs, 1) ?? plan.throughputRuns;
    plan.latencyUploads = count("uploads", values.uploads, 1) ?? plan.latencyUploads;
    plan.clientAwsRttMs = count("client-rtt", values["client-rtt"], 0) ?? plan.clientAwsRttMs;
    plan.workerAwsRttMs = count("worker-rtt", values["worker-rtt"], 0) ?? plan.workerAwsRttMs;
  } catch (error) {
    return { usage: USAGE, error: (error as Error).message };
  }
  plan.cpuProfile = values["cpu-prof"];
  if (values.launcher !== undefined) {
    if (values.launcher !== "miniflare" && values.launcher !== "wrangler") {
      return { usage: USAGE, error: "--launcher must be miniflare or wrangler" };
    }
    plan.launcher = values.launcher;
  }
  const out = values.out?.replace(/(.)\/+$/, "$1");
  // The committed report is the full run's; a smoke run writes beside the raw samples.
  const bench = new URL(".", import.meta.url).pathname.replace(/\/$/, "");
  return {
    plan,
    reportPath: `${out ?? (values.quick ? `${bench}/out` : bench)}/results.md`,
    dataPath: `${out ?? `${bench}/out`}/results.json`,
    verbose: !values.quiet,
  };
}
