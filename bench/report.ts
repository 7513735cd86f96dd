/**
 * The benchmark's results: rows of a table, printed to the terminal and written as Markdown
 * and JSON.
 *
 * @module
 */

import type { Figure } from "./plan.ts";

/** Whether a row meets its target. */
export type Verdict = "met" | "missed" | "info";

/** One row of the results table. */
export interface Row {
  /** The figure it belongs to. */
  figure: Figure;
  /** What was measured, such as `20 MiB via workerd`. */
  measure: string;
  /** The measurement, formatted (median with min–max where there are several). */
  result: string;
  /** The target, such as `≥ 0.90× direct`. */
  target: string;
  /** Met, missed, or only reported. */
  verdict: Verdict;
  /** For a miss: by how much. */
  miss?: string;
}

/** What one figure produced. */
export interface FigureResult {
  figure: Figure;
  rows: Row[];
  /** Explanations: how it was measured, why a target is missed, where time or memory goes. */
  notes: string[];
  /** The raw measurements, for the JSON file. */
  data: unknown;
}

/** Everything a run produced. */
export interface BenchReport {
  /** When the run started (ISO time). */
  startedAt: string;
  /** How long it took, in seconds. */
  durationSeconds: number;
  /** The command that reproduces it. */
  command: string;
  /** The machine and tools. */
  machine: Record<string, string | number>;
  /** The plan it ran. */
  plan: unknown;
  figures: FigureResult[];
}

const VERDICT_TEXT: Record<Verdict, string> = { met: "met", missed: "MISSED", info: "—" };

/**
 * The results table as Markdown.
 *
 * @param report The run.
 * @returns A Markdown table with one row per measurement.
 *
 * @example
 * ```ts ignore
 * import { markdownTable } from "./report.ts";
 * console.log(markdownTable(report));
 * ```
 */
export function markdownTable(report: BenchReport): string {
  const lines = [
    "| figure | measure | result | target | verdict |",
    "|---|---|---|---|---|",
  ];
  for (const figure of report.figures) {
    for (const row of figure.rows) {
      const verdict = VERDICT_TEXT[row.verdict] + (row.miss ? ` (${row.miss})` : "");
      lines.push(
        `| ${row.figure} | ${row.measure} | ${row.result} | ${row.target} | ${verdict} |`,
      );
    }
  }
  return lines.join("\n");
}

/**
 * The machine and tool versions as a Markdown list.
 *
 * @param report The run.
 * @returns One bullet per fact.
 */
export function machineList(report: BenchReport): string {
  return Object.entries(report.machine).map(([k, v]) => `- ${k}: ${v}`).join("\n");
}

/**
 * The whole results file: how it was run, the machine, the table, then each figure's notes.
 *
 * @param report The run.
 * @returns Markdown.
 */
export function markdownReport(report: BenchReport): string {
  const parts = [
    "# Benchmark results",
    "",
    `Run ${report.startedAt}, ${report.durationSeconds.toFixed(0)} s, with:`,
    "",
    "```sh",
    report.command,
    "```",
    "",
    "## Machine",
    "",
    machineList(report),
    "",
    "## Results",
    "",
    markdownTable(report),
    "",
  ];
  for (const figure of report.figures) {
    if (figure.notes.length === 0) continue;
    parts.push(`## ${figure.figure}`, "", ...figure.notes.flatMap((n) => [n, ""]));
  }
  return parts.join("\n");
}

/**
 * The results table for a terminal: aligned plain-text columns.
 *
 * @param report The run.
 * @returns The table.
 */
export function textTable(report: BenchReport): string {
  const rows = report.figures.flatMap((f) => f.rows).map((r) => [
    r.figure,
    r.measure,
    r.result,
    r.target,
    VERDICT_TEXT[r.verdict] + (r.miss ? ` (${r.miss})` : ""),
  ]);
  const header = ["figure", "measure", "result", "target", "verdict"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i])).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
