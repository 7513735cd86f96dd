/**
 * The local service takes its rules from the services' models and the instance's settings,
 * written on its own side: nothing in its module graph (nor the stack's) comes from the
 * product's `src/` or `worker/`, so a rule broken in the product cannot be hidden by the same
 * rule broken in the emulator. (What it enforces is tested against written-out tables in
 * instance_settings_test.ts.)
 */
import assert from "node:assert/strict";
import { runDeno } from "./_run.ts";

const ROOT = new URL("..", import.meta.url);

for (const entry of ["local/service.ts", "local/stack.ts"]) {
  Deno.test(`${entry} imports nothing from src/ or worker/`, async () => {
    const info = await runDeno(["info", "--json", entry], { cwd: ROOT.pathname });
    assert.equal(info.code, 0, info.stderr);
    const modules = (JSON.parse(info.stdout).modules as { specifier: string }[])
      .map((m) => m.specifier)
      .filter((s) => s.startsWith(ROOT.href))
      .map((s) => s.slice(ROOT.href.length));
    assert.ok(modules.includes("local/participant/instance_settings.ts"), modules.join("\n"));
    const product = modules.filter((m) => m.startsWith("src/") || m.startsWith("worker/"));
    assert.deepEqual(product, []);
  });
}
