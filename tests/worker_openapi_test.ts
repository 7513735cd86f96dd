import assert from "node:assert/strict";

const ROOT = new URL("..", import.meta.url).pathname;

async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT,
    env: { NO_COLOR: "1", REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("worker/openapi.yaml lints clean with Redocly CLI: no error, no warning", async () => {
  const run = await deno([
    "run",
    "-A",
    "npm:@redocly/cli@2.77.0",
    "lint",
    "--config",
    "redocly.yaml",
    "--format",
    "json",
    "worker/openapi.yaml",
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

Deno.test("generated/worker.ts and worker-openapi.json are what `deno task gen` makes", async () => {
  const types = await deno([
    "run",
    "-A",
    "npm:openapi-typescript@7.13.0",
    "worker/openapi.yaml",
    "-o",
    "generated/worker.ts",
    "--check",
  ]);
  assert.equal(
    types.code,
    0,
    `generated/worker.ts is stale; run \`deno task gen\`\n${types.stderr}`,
  );
  const json = await deno([
    "run",
    "-A",
    "scripts/openapi_json.ts",
    "worker/openapi.yaml",
    "generated/worker-openapi.json",
    "--check",
  ]);
  assert.equal(json.code, 0, json.stderr);
});
