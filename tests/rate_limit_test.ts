/**
 * The per-token rate limit: on Workers, Cloudflare's rate-limiting binding that
 * `worker/wrangler.jsonc` declares (30 requests per 10 s per token), run by Miniflare from
 * that very declaration; under Deno, none (one process holds every request: its in-process
 * concurrency limit is the limit).
 */
import assert from "node:assert/strict";
import { wranglerSettings } from "../testing/wrangler.ts";
import { startWorker, type WorkerRuntime } from "../testing/worker.ts";
import { workerFetch } from "./_worker_contract.ts";

/**
 * Requests that the worker refuses in its handler, with no upstream call (an unusable query),
 * but only after the per-token limits have counted them.
 */
function cheapRequest(url: string, token: string): Promise<Response> {
  return workerFetch(`${url}/attachments/a.pdf?complete=maybe`, {
    method: "PUT",
    headers: { "X-Amz-Bearer": token, "Content-Type": "application/pdf" },
    body: "%PDF",
  });
}

/** Sends up to `count` requests in turn; returns the answers' statuses and the first 429. */
async function burst(url: string, token: string, count: number) {
  const statuses: number[] = [];
  let refused: Response | undefined;
  for (let i = 0; i < count && !refused; i++) {
    const response = await cheapRequest(url, token);
    statuses.push(response.status);
    if (response.status === 429) refused = response;
    else await response.body?.cancel();
  }
  return { statuses, refused };
}

const common = { participantUrl: "http://127.0.0.1:9", uploadHosts: ["127.0.0.1:9"] };

Deno.test("wrangler.jsonc declares the per-token rate limit as a ratelimit binding", () => {
  assert.deepEqual(wranglerSettings().rateLimits, [
    { name: "RATE_LIMITER", namespaceId: "1001", limit: 30, period: 10 },
  ]);
});

Deno.test("workerd (Miniflare, from wrangler.jsonc): a token over 30 requests in 10 s gets 429 rate_limited with Retry-After; another token does not", async () => {
  const worker = await startWorker({ runtime: "workerd", rateLimit: true, ...common });
  try {
    // Fixed windows of 10 s: 61 requests within at most two windows put 31 in one of them.
    const { statuses, refused } = await burst(worker.url, "token-one", 61);
    assert.ok(refused, `no 429 in ${statuses.length} requests`);
    const allowed = statuses.filter((s) => s === 400).length;
    assert.ok(allowed >= 30, `only ${allowed} requests were let through`);
    assert.equal(statuses.length, allowed + 1);
    const problem = await refused.json();
    assert.equal(problem.code, "rate_limited");
    assert.equal(problem.status, 429);
    assert.match(refused.headers.get("content-type")!, /^application\/problem\+json/);
    assert.equal(refused.headers.get("retry-after"), "10", "the binding's period");
    assert.match(problem.detail, /10 s/);

    // The limit is the token's: another token goes on (its own request reaches the handler).
    const other = await cheapRequest(worker.url, "token-two");
    assert.equal(other.status, 400);
    assert.equal((await other.json()).code, "invalid_query");
    // Requests without a token are refused for it, not counted against anyone.
    const anonymous = await workerFetch(`${worker.url}/attachments/a.pdf`, {
      method: "PUT",
      body: "%PDF",
    });
    assert.equal(anonymous.status, 401);
    await anonymous.body?.cancel();
    // The log says why, without the token.
    const line = await worker.waitForLog((l) => l.includes('"code":"rate_limited"'));
    assert.ok(!line.includes("token-one"));
  } finally {
    await worker.close();
  }
});

Deno.test("deno: no shared rate limit; only the in-process concurrency limit applies", async () => {
  const worker = await startWorker({ runtime: "deno" as WorkerRuntime, ...common });
  try {
    const { statuses, refused } = await burst(worker.url, "token-one", 61);
    assert.equal(refused, undefined, `a 429 after ${statuses.length} requests`);
    assert.deepEqual(new Set(statuses), new Set([400]));
  } finally {
    await worker.close();
  }
});
