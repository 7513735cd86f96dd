/**
 * Running the project's commands as a user would in a shell: `deno` with arguments (or any
 * program), its exit code and output collected; and Redocly CLI's lint of an OpenAPI file,
 * asserted clean.
 *
 * @module
 */

import assert from "node:assert/strict";

/** What a finished subprocess left behind. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary output. */
  stdoutBytes: Uint8Array<ArrayBuffer>;
}

/**
 * Runs `deno` (the one running the tests) with arguments, as a user would in a shell: no
 * inherited `CONNECT_*` variables unless given, `NO_COLOR` set.
 */
export async function runDeno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  return await runCommand(Deno.execPath(), args, options);
}

/** Runs a program and collects its exit code and output; stdin is closed. */
export async function runCommand(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("CONNECT_") && key !== "AWS_REGION") env[key] = value;
  }
  const output = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    stdoutBytes: output.stdout,
  };
}

/** The repository's root folder. */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname;

/**
 * Lints an OpenAPI file with Redocly CLI under the house rules (`redocly.yaml`) and asserts it
 * is clean: no problem (each shown as `rule: message at pointer`), no error, no warning, none
 * ignored, and the run's exit code 0.
 *
 * @param path The file, relative to the checkout.
 */
export async function assertLintsClean(path: string): Promise<void> {
  const run = await runDeno(
    [
      "run",
      "-A",
      "npm:@redocly/cli@2.77.0",
      "lint",
      "--config",
      "redocly.yaml",
      "--format",
      "json",
      path,
    ],
    { cwd: REPO_ROOT, env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } },
  );
  const start = run.stdout.indexOf("{");
  if (start < 0) throw new Error(`no JSON report from Redocly CLI:\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(run.stdout.slice(start)) as {
    totals: { errors: number; warnings: number; ignored: number };
    problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
  };
  const problems = report.problems.map((p) =>
    `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? "?"}`
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  assert.equal(run.code, 0, run.stderr);
}
