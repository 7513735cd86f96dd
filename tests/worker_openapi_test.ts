import assert from "node:assert/strict";
import { assertLintsClean, REPO_ROOT, runDeno } from "./_run.ts";

Deno.test("worker/openapi.yaml lints clean with Redocly CLI: no error, no warning", async () => {
  await assertLintsClean("worker/openapi.yaml");
});

Deno.test("generated/worker.ts and generated/assets/openapi.json are what `deno task gen` makes", async () => {
  const types = await runDeno([
    "run",
    "-A",
    "npm:openapi-typescript@7.13.0",
    "worker/openapi.yaml",
    "-o",
    "generated/worker.ts",
    "--check",
  ], { cwd: REPO_ROOT });
  assert.equal(
    types.code,
    0,
    `generated/worker.ts is stale; run \`deno task gen\`\n${types.stderr}`,
  );
  const json = await runDeno([
    "run",
    "-A",
    "worker/_build/openapi_json.ts",
    "worker/openapi.yaml",
    "generated/assets/openapi.json",
    "--without-descriptions",
    "--check",
  ], { cwd: REPO_ROOT });
  assert.equal(json.code, 0, json.stderr);
});
