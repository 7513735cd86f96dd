/**
 * Reading V8 CPU profiles (`deno run --cpu-prof`): where a process spent its time, as the
 * functions with the most self time.
 *
 * @module
 */

import type { CpuProfile } from "../testing/inspector.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** One line of a profile summary. */
export interface ProfileLine {
  /** `function (file:line)`. */
  frame: string;
  /** Self time in milliseconds. */
  selfMs: number;
  /** Share of all sampled time, 0–100. */
  percent: number;
}

/**
 * Sums a CPU profile's self time by function and returns the heaviest ones.
 *
 * @param profile The parsed `.cpuprofile` JSON.
 * @param top How many lines.
 * @returns The heaviest functions, heaviest first, and the total sampled time.
 *
 * @example
 * ```ts ignore
 * import { summarizeProfile } from "./profile.ts";
 * const json = JSON.parse(await Deno.readTextFile("CPU.123.cpuprofile"));
 * console.log(summarizeProfile(json, 10));
 * ```
 */
export function summarizeProfile(
  profile: unknown,
  top = 12,
): { totalMs: number; lines: ProfileLine[] } {
  const { nodes, samples, timeDeltas } = profile as CpuProfile;
  const frameOf = new Map<number, string>();
  for (const node of nodes) {
    const { functionName, url, lineNumber } = node.callFrame;
    const file = url
      ? url.replace(/^.*\/node_modules\/\.deno\/[^/]+\/node_modules\//, "npm:")
        .replace(/^file:\/\/.*?\/(bench|src|worker|local)\//, "$1/")
        .replace(/^ext:/, "ext:")
      : "";
    const name = functionName || "(anonymous)";
    frameOf.set(node.id, file ? `${name} (${file}:${lineNumber + 1})` : name);
  }
  const self = new Map<string, number>();
  let totalUs = 0;
  for (let i = 0; i < samples.length; i++) {
    const us = timeDeltas[i] ?? 0;
    totalUs += us;
    const frame = frameOf.get(samples[i]) ?? "?";
    self.set(frame, (self.get(frame) ?? 0) + us);
  }
  const lines = [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([frame, us]) => ({
      frame,
      selfMs: us / 1000,
      percent: totalUs ? (100 * us) / totalUs : 0,
    }));
  return { totalMs: totalUs / 1000, lines };
}

/**
 * Summarizes every `.cpuprofile` in a folder as a Markdown list.
 *
 * @param dir The folder `--cpu-prof-dir` pointed at.
 * @param title What the process was.
 * @param top How many functions per profile.
 * @returns Markdown, or `undefined` when the folder holds no profile.
 */
export async function profileNotes(
  dir: string,
  title: string,
  top = 10,
): Promise<string | undefined> {
  const notes: string[] = [];
  try {
    for await (const entry of Deno.readDir(dir)) {
      if (!entry.name.endsWith(".cpuprofile")) continue;
      const summary = summarizeProfile(
        JSON.parse(await Deno.readTextFile(`${dir}/${entry.name}`)),
        top,
      );
      const shown = `${dir}/${entry.name}`.replace(ROOT, "");
      notes.push(
        `CPU profile of ${title} (\`${shown}\`, ${
          (summary.totalMs / 1000).toFixed(1)
        } s sampled), heaviest functions by self time:\n\n` +
          summary.lines.map((l) =>
            `- ${l.percent.toFixed(1)}% ${l.selfMs.toFixed(0)} ms \`${l.frame}\``
          ).join("\n"),
      );
    }
  } catch {
    return undefined;
  }
  return notes.length ? notes.join("\n\n") : undefined;
}
