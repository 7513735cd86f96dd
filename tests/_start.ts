/**
 * Runs `deno task start` as a user would, reads its output, and stops it: shared by the tests
 * of the start command and the tests that need the stack exactly as it starts it.
 *
 * @module
 */

import { textLines } from "../testing/lines.ts";
import { stopProcess } from "../testing/processes.ts";
import { REPO_ROOT } from "./_run.ts";

/** The start command's arguments for free ports everywhere, and the worker in a runtime. */
export function onFreePorts(runtime: "workerd" | "deno"): string[] {
  return ["--s3-port", "0", "--participant-port", "0", "--worker-port", "0", "--runtime", runtime];
}

/** A start command running (or ended). */
export interface StartRun {
  child: Deno.ChildProcess;
  /** Every line it printed so far, stdout and stderr. */
  output: string[];
  /** Resolves once the banner is complete; rejects, with the output, when it exits first. */
  banner: Promise<void>;
  /** Its exit status. */
  status: Promise<Deno.CommandStatus>;
  /** Ends once both its outputs are closed. */
  reading: Promise<unknown>;
  /**
   * Stops it, if it still runs: SIGTERM (it stops what it started), then, if it lingers,
   * SIGKILL for it and everything below it, so that no process keeps its output open; then
   * waits for its output to end.
   */
  stop(): Promise<void>;
}

/**
 * Runs `deno task start` and reads its output.
 *
 * @param args Its arguments.
 * @param env Variables besides the inherited ones.
 * @returns The run.
 */
export function start(args: string[], env: Record<string, string> = {}): StartRun {
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
  const bannerPrinted = new Promise<void>((resolve) => (bannerDone = resolve));
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const line of textLines(stream)) {
      output.push(line);
      if (line.startsWith("Ready.")) bannerDone();
    }
  }));
  let exited = false;
  const status = child.status.finally(() => (exited = true));
  const banner = Promise.race([
    bannerPrinted,
    status.then((s) => {
      throw new Error(`start exited with ${s.code}:\n${output.join("\n")}`);
    }),
  ]);
  banner.catch(() => {}); // not every test waits for it
  const stop = async () => {
    if (!exited) await stopProcess(child, 20_000);
    await reading;
  };
  return { child, output, banner, status, reading, stop };
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

/**
 * The banner's `curl` line: the chat's ConnectionToken and the upload URL it sends to.
 *
 * @param output The lines printed.
 * @returns Both, or `undefined` when there is no such line.
 */
export function bannerCurl(output: string[]): { token: string; uploadUrl: string } | undefined {
  const curl = /curl -T file\.pdf -H "X-Amz-Bearer: (\S+)" (http:\/\/\S+\/attachments\/)/
    .exec(output.join("\n"));
  return curl ? { token: curl[1], uploadUrl: curl[2] } : undefined;
}
