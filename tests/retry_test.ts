import assert from "node:assert/strict";
import { backoffDelay, type RetryInfo, retryingFetch } from "../src/_core/retry.ts";
import { brokenAnswer, serveTiny } from "./_http.ts";
import { eventually, settlesWithin } from "./_wait.ts";

Deno.test("backoffDelay: full jitter under a doubling ceiling, capped", () => {
  for (const [base, max] of [[100, 5000], [10, 50], [250, 1000]]) {
    for (let attempt = 1; attempt <= 12; attempt++) {
      const ceiling = Math.min(max, base * 2 ** (attempt - 1));
      const samples = Array.from(
        { length: 300 },
        () => backoffDelay(attempt, { baseDelayMs: base, maxDelayMs: max }),
      );
      for (const delay of samples) {
        assert.ok(Number.isInteger(delay), `${delay} is whole`);
        assert.ok(delay >= 0 && delay < ceiling, `${delay} in [0, ${ceiling}) at try ${attempt}`);
      }
      // Jitter: 300 draws below a ceiling of 10 or more are not all alike.
      assert.ok(new Set(samples).size > 1, `jittered at try ${attempt}`);
    }
  }
  // Defaults: base 100, cap 5000.
  for (let i = 0; i < 300; i++) assert.ok(backoffDelay(20) < 5000);
  for (let i = 0; i < 300; i++) assert.ok(backoffDelay(1) < 100);
});

Deno.test("backoffDelay: Retry-After seconds are honoured, capped by maxDelayMs", () => {
  assert.equal(backoffDelay(1, { maxDelayMs: 5000 }, "2"), 2000);
  assert.equal(backoffDelay(1, { maxDelayMs: 5000 }, "0"), 0);
  assert.equal(backoffDelay(1, { maxDelayMs: 5000 }, "1.5"), 1500);
  assert.equal(backoffDelay(1, { maxDelayMs: 3000 }, "60"), 3000);
  for (const unusable of ["soon", "-1", "", null, undefined]) {
    const delay = backoffDelay(1, { baseDelayMs: 100, maxDelayMs: 5000 }, unusable);
    assert.ok(delay >= 0 && delay < 100, `${JSON.stringify(unusable)} falls back to jitter`);
  }
});

/** Status codes (or "drop") answered to successive requests; the last one repeats. */
function scripted(script: (number | "drop")[], headers: Record<string, string> = {}) {
  const bodies: string[] = [];
  const server = serveTiny(async (request, n) => {
    bodies.push(await request.text());
    const step = script[Math.min(n, script.length) - 1];
    if (step === "drop") return brokenAnswer();
    return Response.json({ n }, { status: step, headers });
  });
  return { server, bodies };
}

const fast = { baseDelayMs: 1, maxDelayMs: 5 };

Deno.test("retryingFetch tries 429, 5xx and dropped answers again with the same body", async () => {
  const { server, bodies } = scripted([429, 500, "drop", 503, 200]);
  try {
    const tries: RetryInfo[] = [];
    const patient = retryingFetch(fetch, {
      ...fast,
      maxAttempts: 5,
      onRetry: (i) => tries.push(i),
    });
    const body = JSON.stringify({ ClientToken: "same-every-time" });
    const response = await patient(server.url, { method: "POST", body });
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { n: 5 });
    assert.equal(server.requests, 5);
    assert.deepEqual(bodies, Array(5).fill(body));
    // A body cut off after the headers counts as no answer (status 0).
    assert.deepEqual(tries.map((i) => i.status), [429, 500, 0, 503]);
    assert.deepEqual(tries.map((i) => i.attempt), [1, 2, 3, 4]);
  } finally {
    await server.close();
  }
});

Deno.test("retryingFetch gives up after maxAttempts and hands back the last answer", async () => {
  const { server } = scripted([503]);
  try {
    const response = await retryingFetch(fetch, { ...fast, maxAttempts: 3 })(server.url);
    assert.equal(response.status, 503);
    assert.deepEqual(await response.json(), { n: 3 });
    assert.equal(server.requests, 3);
  } finally {
    await server.close();
  }
});

Deno.test("retryingFetch never tries a 4xx other than 429 again", async () => {
  for (const status of [400, 402, 403, 404, 409]) {
    const { server } = scripted([status, 200]);
    try {
      const response = await retryingFetch(fetch, { ...fast, maxAttempts: 5 })(server.url);
      assert.equal(response.status, status);
      await response.body?.cancel();
      assert.equal(server.requests, 1, `${status} was sent once`);
    } finally {
      await server.close();
    }
  }
});

Deno.test("retryingFetch honours Retry-After, capped, and stops at the deadline", async (t) => {
  await t.step("the pause is the server's Retry-After, capped by maxDelayMs", async () => {
    const { server } = scripted([429, 200], { "Retry-After": "120" });
    try {
      const tries: RetryInfo[] = [];
      const response = await retryingFetch(fetch, {
        baseDelayMs: 1,
        maxDelayMs: 200,
        onRetry: (i) => tries.push(i),
      })(server.url);
      assert.equal(response.status, 200);
      await response.body?.cancel();
      assert.deepEqual(tries, [{ attempt: 1, delayMs: 200, status: 429 }]);
    } finally {
      await server.close();
    }
  });
  await t.step("no try starts past deadlineMs: the 429 comes back at once", async () => {
    const { server } = scripted([429, 200], { "Retry-After": "30" });
    try {
      const response = await retryingFetch(fetch, { maxDelayMs: 60_000, deadlineMs: 10_000 })(
        server.url,
      );
      assert.equal(response.status, 429);
      assert.equal(response.headers.get("retry-after"), "30");
      await response.body?.cancel();
      assert.equal(server.requests, 1);
    } finally {
      await server.close();
    }
  });
});

Deno.test("retryingFetch abandons a try that stalls and tries again", async () => {
  let stalled: (() => void) | undefined;
  const server = serveTiny(async (_request, n) => {
    if (n === 1) await new Promise<void>((r) => (stalled = r));
    return Response.json({ n });
  });
  try {
    const tries: RetryInfo[] = [];
    const response = await retryingFetch(fetch, {
      ...fast,
      maxAttempts: 5,
      attemptTimeoutMs: 500,
      onRetry: (i) => tries.push(i),
    })(server.url);
    assert.deepEqual(await response.json(), { n: 2 });
    assert.equal(tries[0].status, 0);
  } finally {
    stalled?.();
    await server.close();
  }
});

Deno.test("retryingFetch: the caller's abort ends it at once, pauses included", async () => {
  const { server } = scripted([503], { "Retry-After": "30" });
  try {
    const controller = new AbortController();
    const tries: RetryInfo[] = [];
    const pending = retryingFetch(fetch, {
      maxDelayMs: 60_000,
      deadlineMs: 120_000,
      onRetry: (i) => tries.push(i),
    })(server.url, { signal: controller.signal });
    // Abort while it waits out Retry-After: 30.
    await eventually(() => tries.length === 1);
    assert.equal(tries[0].delayMs, 30_000);
    controller.abort();
    // An abort heeded only once the 30 s pause is over fails here.
    const { result } = await settlesWithin(pending, 10_000, "the abort during a 30 s pause");
    assert.equal(result.status, "rejected");
    const reason = (result as PromiseRejectedResult).reason;
    assert.ok(reason instanceof DOMException && reason.name === "AbortError", String(reason));
    assert.equal(server.requests, 1);
  } finally {
    await server.close();
  }
});

Deno.test("retryingFetch throws the network error once every try failed to connect", async () => {
  const { server } = scripted([200]);
  const url = server.url;
  await server.close();
  const tries: RetryInfo[] = [];
  await assert.rejects(
    retryingFetch(fetch, { ...fast, maxAttempts: 3, onRetry: (i) => tries.push(i) })(url),
    TypeError,
  );
  assert.deepEqual(tries.map((i) => i.status), [0, 0]);
});
