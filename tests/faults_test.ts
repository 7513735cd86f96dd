import assert from "node:assert/strict";
import { FaultInjector, sharedRateRules } from "../local/faults.ts";

Deno.test("faults: rules sharing a rate hit that share of the calls, each kind a like part", () => {
  for (const rate of [0.05, 0.3]) {
    const faults = new FaultInjector();
    for (const rule of sharedRateRules("Op", ["throttle", "error", "drop"], rate, 1)) {
      faults.add(rule);
    }
    const calls = 60_000;
    for (let i = 0; i < calls; i++) faults.take("Op");
    const hits = [...faults.hits.values()].reduce((a, b) => a + b, 0);
    assert.equal(faults.calls.get("Op"), calls);
    // Seeded: the figures repeat exactly; the bounds are those of a fair draw (± 4 σ).
    const sigma = Math.sqrt(calls * rate * (1 - rate));
    assert.ok(Math.abs(hits - calls * rate) < 4 * sigma, `${hits} of ${calls} at ${rate}`);
    for (const kind of ["throttle", "error", "drop"]) {
      const n = faults.hits.get(`Op:${kind}`) ?? 0;
      const expected = (calls * rate) / 3;
      assert.ok(
        Math.abs(n - expected) < 4 * Math.sqrt(expected),
        `${kind}: ${n}, not ~${expected}`,
      );
    }
  }
  // Each rule at rate/3 on its own would fall short: 1 - (1 - r/3)^3 < r.
  const naive = new FaultInjector();
  (["throttle", "error", "drop"] as const).forEach((kind, i) => {
    naive.add({ operation: "Op", kind, rate: 0.3 / 3, seed: 5 + i });
  });
  for (let i = 0; i < 60_000; i++) naive.take("Op");
  const naiveHits = [...naive.hits.values()].reduce((a, b) => a + b, 0);
  assert.ok(naiveHits < 0.28 * 60_000, `${naiveHits}`);
});
