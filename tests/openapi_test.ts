import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs `deno <args>` in the checkout and returns its exit code and output. */
async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1", REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("openapi.yaml lints clean with Redocly CLI: no error, no warning", async () => {
  const run = await deno([
    "run",
    "-A",
    "npm:@redocly/cli@2.77.0",
    "lint",
    "--config",
    "redocly.yaml",
    "--format",
    "json",
    "openapi.yaml",
  ]);
  const start = run.stdout.indexOf("{");
  assert.ok(start >= 0, `no JSON report from Redocly CLI:\n${run.stdout}\n${run.stderr}`);
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
});

Deno.test("the Redocly configuration itself is valid", async () => {
  const run = await deno(["run", "-A", "npm:@redocly/cli@2.77.0", "check-config"]);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
});

Deno.test("generated/participant.ts is what `deno task gen` makes from openapi.yaml", async () => {
  const run = await deno([
    "run",
    "-A",
    "npm:openapi-typescript@7.13.0",
    "openapi.yaml",
    "-o",
    "generated/participant.ts",
    "--check",
  ]);
  assert.equal(run.code, 0, `generated/ is stale; run \`deno task gen\`\n${run.stderr}`);
});
