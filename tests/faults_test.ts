import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { FaultInjector, parseFaultRule, sharedRateRules } from "../local/faults.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/_core/client.ts";

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

Deno.test("the local service: a conflict fault, and either answer to a repeated ClientToken", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const url = stack.participantUrl;
  try {
    const client = createParticipantClient({ endpoint: url, retry: false });
    const { connectionToken } = await openChat(client);
    const start = () =>
      client.startAttachmentUpload(connectionToken, {
        AttachmentName: "a.pdf",
        ContentType: "application/pdf",
        AttachmentSizeInBytes: 10,
        ClientToken: "repeated",
      });
    const behaviour = async (body: unknown) => {
      const response = await fetch(`${url}/_local/behaviour`, {
        method: "POST",
        body: JSON.stringify(body),
      });
      return { status: response.status, body: await response.json() };
    };

    // As documented nowhere, and both possible: the same attachment, or a new one.
    assert.deepEqual(await (await fetch(`${url}/_local/behaviour`)).json(), {
      repeatedClientToken: "same-attachment",
    });
    const first = (await start()).data!.AttachmentId;
    assert.equal((await start()).data!.AttachmentId, first);
    assert.equal((await behaviour({ repeatedClientToken: "new-attachment" })).status, 200);
    const second = (await start()).data!.AttachmentId;
    assert.notEqual(second, first);
    assert.notEqual((await start()).data!.AttachmentId, second);
    const refused = await behaviour({ repeatedClientToken: "sometimes" });
    assert.equal(refused.status, 400);
    assert.match(refused.body.Message, /same-attachment or new-attachment/);

    // A conflict fault answers as the model has CompleteAttachmentUpload answer it.
    const armed = await fetch(`${url}/_local/faults`, {
      method: "POST",
      body: JSON.stringify({ operation: "CompleteAttachmentUpload", kind: "conflict" }),
    });
    assert.equal(armed.status, 200, await armed.text());
    const { error } = await client.completeAttachmentUpload(connectionToken, {
      AttachmentIds: [first!],
    });
    assert.deepEqual([error?.name, error?.status], ["ConflictException", 409]);
    assert.equal(
      parseFaultRule({ operation: "X", kind: "conflicted" }),
      "kind must be throttle, error, conflict, delay or drop",
    );
  } finally {
    await stack.close();
  }
});
