/**
 * Runs `deno task start` as a user would, reads its output, and stops it: shared by the tests
 * of the start command and the tests that need the stack exactly as it starts it.
 *
 * @module
 */

import { textLines } from "../testing/lines.ts";
import { descendantProcesses } from "../testing/processes.ts";
import { REPO_ROOT } from "./_run.ts";

/**
 * Runs `deno task start` and reads its output; `banner` resolves once the banner is complete.
 *
 * @param args Its arguments.
 * @param env Variables besides the inherited ones.
 */
export function start(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", ...args],
    cwd: REPO_ROOT,
    env: { NO_COLOR: "1", WRANGLER_SEND_METRICS: "false", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let bannerDone: () => void = () => {};
  const banner = new Promise<void>((resolve) => (bannerDone = resolve));
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const line of textLines(stream)) {
      output.push(line);
      if (line.startsWith("Ready.")) bannerDone();
    }
  }));
  return { child, output, banner, reading };
}

/**
 * Stops a start command that is still running: SIGTERM (it stops what it started), then, if it
 * lingers, SIGKILL for it and everything below it, so that no process keeps its output open.
 */
export async function stop(child: Deno.ChildProcess, running?: Promise<unknown>): Promise<void> {
  if (!running) return;
  const below = descendantProcesses(child.pid);
  child.kill("SIGTERM");
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    running.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), 20_000))),
  ]);
  clearTimeout(timer);
  if (stopped) return;
  for (const { pid } of [...below, { pid: child.pid }]) {
    try {
      Deno.kill(pid, "SIGKILL");
    } catch { /* already gone */ }
  }
  await running;
}

/**
 * A value of the banner, such as `Participant Service`.
 *
 * @param output The lines printed.
 * @param name The row's name.
 * @returns Its value, or "" when there is no such row.
 */
export function bannerField(output: string[], name: string): string {
  return new RegExp(`^${name}:\\s+(.+)$`, "m").exec(output.join("\n"))?.[1] ?? "";
}
