/**
 * `deno task bench`: the benchmark suite. Starts the local stack and the upload worker
 * (workerd and Deno), measures every figure of the benchmark table, prints the table and
 * writes the report, `bench/results.md`, and every raw sample, `bench/out/results.json`
 * (ignored by git). See `--help`.
 *
 * @module
 */

import { exitWithUsage } from "../worker/_command_line.ts";
import { parseBenchArgs } from "./args.ts";
import type { Figure } from "./plan.ts";
import { type BenchReport, type FigureResult, markdownReport, textTable } from "./report.ts";
import { describeMachine } from "./machine.ts";
import { throughputFigure } from "./figures/throughput.ts";
import { memoryFigure } from "./figures/memory.ts";
import { latencyFigure } from "./figures/latency.ts";
import { concurrencyFigure } from "./figures/concurrency.ts";
import { bundleFigure } from "./figures/bundle.ts";
import { coldStartFigure } from "./figures/coldstart.ts";
import { curlFigure } from "./figures/curl.ts";
import { costFigure } from "./figures/cost.ts";
import { topologyFigure } from "./figures/topology.ts";
import { browserFigure } from "./figures/browser.ts";
import type { Plan } from "./plan.ts";

type Runner = (plan: Plan, log: (line: string) => void) => Promise<FigureResult>;

const RUNNERS: Record<Figure, Runner> = {
  throughput: throughputFigure,
  memory: memoryFigure,
  latency: latencyFigure,
  concurrency: concurrencyFigure,
  bundle: bundleFigure,
  coldstart: coldStartFigure,
  curl: curlFigure,
  cost: costFigure,
  topology: topologyFigure,
  browser: browserFigure,
};

/**
 * Runs the benchmark as the command line asks.
 *
 * @param args The command-line arguments.
 * @returns The exit code: 0 when every figure ran (targets missed or not), 1 when a figure
 * could not be measured, 2 for bad arguments.
 */
export async function main(args: string[]): Promise<number> {
  const options = parseBenchArgs(args);
  if ("usage" in options) {
    if (options.error) exitWithUsage(options.usage, options.error);
    console.log(options.usage);
    return 0;
  }
  const { plan, reportPath, dataPath, verbose } = options;
  const started = performance.now();
  const log = (line: string) => {
    if (verbose) console.error(`[${((performance.now() - started) / 1000).toFixed(0)}s] ${line}`);
  };
  const report: BenchReport = {
    startedAt: new Date().toISOString(),
    durationSeconds: 0,
    command: ["deno task bench", ...args].join(" "),
    machine: await describeMachine(),
    plan,
    figures: [],
  };
  let failed = 0;
  for (const figure of plan.figures) {
    log(`${figure}: starting`);
    const figureStarted = performance.now();
    try {
      report.figures.push(await RUNNERS[figure](plan, log));
    } catch (error) {
      failed++;
      const message = error instanceof Error ? error.message : String(error);
      log(`${figure}: FAILED: ${message}`);
      report.figures.push({
        figure,
        rows: [{
          figure,
          measure: "(could not be measured)",
          result: message.split("\n")[0].slice(0, 200),
          target: "",
          verdict: "missed",
        }],
        notes: [`The figure failed: ${message}`],
        data: { error: message, stack: error instanceof Error ? error.stack : undefined },
      });
    }
    log(`${figure}: done in ${((performance.now() - figureStarted) / 1000).toFixed(1)} s`);
  }
  report.durationSeconds = (performance.now() - started) / 1000;
  for (const path of [reportPath, dataPath]) {
    await Deno.mkdir(path.slice(0, path.lastIndexOf("/")), { recursive: true });
  }
  await Deno.writeTextFile(dataPath, JSON.stringify(report, null, 2) + "\n");
  await Deno.writeTextFile(reportPath, markdownReport(report));
  // Written as the project's formatter would write it, so that the committed report passes
  // `deno fmt --check`.
  await new Deno.Command(Deno.execPath(), {
    args: ["fmt", "--quiet", reportPath],
    stdout: "null",
    stderr: "null",
  }).output().catch(() => {});
  console.log(textTable(report));
  console.log(`\n${report.durationSeconds.toFixed(0)} s; wrote ${reportPath} and ${dataPath}`);
  return failed ? 1 : 0;
}

if (import.meta.main) Deno.exit(await main(Deno.args));
