/**
 * The project's commands answer as a newcomer would hope: `--help` prints the usage and exits
 * 0; an unknown option (or a bad value) prints the error and the usage line and exits 2; no
 * stack trace and no warning from Deno's npm set-up on the way. Each command is run through
 * `deno task`, as a user runs it; none gets as far as starting a server. (The CLI's own help
 * and usage errors are in cli_test.ts.)
 */
import assert from "node:assert/strict";
import { REPO_ROOT, runDeno } from "./_run.ts";

/** Each task, and a bad value it refuses besides an unknown option. */
const COMMANDS: [task: string, badValue: string[]][] = [
  ["start", ["--runtime", "lambda"]],
  ["bench", ["--launcher", "docker"]],
  ["soak", ["--runtime", "lambda"]],
  ["worker:deno", ["--port"]],
  ["build", ["--out"]],
];

/** What no command prints: a stack frame, or a warning (Deno's npm set-up among them). */
function assertClean(output: string, what: string): void {
  assert.doesNotMatch(output, /^\s+at /m, `${what}: a stack trace\n${output}`);
  assert.doesNotMatch(output, /warning/i, `${what}: a warning\n${output}`);
}

for (const [task, badValue] of COMMANDS) {
  const usageLine = new RegExp(`^Usage: deno task ${task} `, "m");

  Deno.test(`deno task ${task} --help prints the usage and exits 0`, async () => {
    const run = await runDeno(["task", task, "--help"], { cwd: REPO_ROOT });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, usageLine);
    assert.match(run.stdout, /--help/);
    assertClean(run.stdout + run.stderr, `${task} --help`);
  });

  Deno.test(`deno task ${task} with an unknown option or a bad value exits 2 with the usage line`, async () => {
    const unknown = await runDeno(["task", task, "--bogus"], { cwd: REPO_ROOT });
    assert.equal(unknown.code, 2, unknown.stdout + unknown.stderr);
    assert.match(unknown.stderr, /^error: .*'--bogus'/m);
    assert.match(unknown.stderr, usageLine);
    assertClean(unknown.stdout + unknown.stderr, `${task} --bogus`);

    const bad = await runDeno(["task", task, ...badValue], { cwd: REPO_ROOT });
    assert.equal(bad.code, 2, bad.stdout + bad.stderr);
    assert.match(bad.stderr, /^error: /m);
    assert.match(bad.stderr, usageLine);
    assertClean(bad.stdout + bad.stderr, `${task} ${badValue.join(" ")}`);
  });
}
