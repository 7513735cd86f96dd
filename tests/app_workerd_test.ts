import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { appCases } from "./_app_cases.ts";
import { randomBytes, sha256 } from "../testing/data.ts";
import { startWorker } from "../testing/worker.ts";
import { commandLine } from "../testing/processes.ts";
import { servedWorkerSpec, workerFetch } from "./_worker_contract.ts";

appCases("workerd");

Deno.test("upload worker in workerd: a bad configuration answers 500 misconfigured", async () => {
  const worker = await startWorker({
    runtime: "workerd",
    participantUrl: "",
    uploadHosts: [],
    vars: { MAX_ATTACHMENT_BYTES: "lots" },
  });
  try {
    const response = await workerFetch(`${worker.url}/healthz`);
    const body = await response.json();
    assert.equal(response.status, 500);
    assert.equal(body.code, "misconfigured");
    assert.doesNotMatch(body.detail, /MAX_ATTACHMENT_BYTES/, "the reasons stay in the log");
    const logged = await worker.waitForLog((line) => line.includes("misconfigured"));
    assert.match(logged, /MAX_ATTACHMENT_BYTES must be a whole number/);
    assert.match(logged, /AWS_REGION/);
  } finally {
    await worker.close();
  }
});

Deno.test("upload worker in workerd through wrangler dev: the wrangler.jsonc path", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const worker = await startWorker({
    runtime: "workerd",
    launcher: "wrangler",
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3.url).host],
  }).catch(async (error) => {
    await stack.close();
    throw error;
  });
  try {
    assert.match(commandLine(worker.pid), /workerd/);
    const { connectionToken } = await openChat(
      createParticipantClient({ endpoint: stack.participantUrl }),
    );
    const bytes = randomBytes(300_000, 5);
    const response = await workerFetch(`${worker.url}/attachments/scan.png`, {
      method: "PUT",
      headers: { "X-Amz-Bearer": connectionToken },
      body: bytes,
    });
    const sent = await response.json();
    assert.equal(response.status, 201, JSON.stringify(sent));
    assert.equal(sent.contentType, "image/png");
    const back = await workerFetch(`${worker.url}/attachments/${sent.attachmentId}`, {
      headers: { "X-Amz-Bearer": connectionToken },
    });
    assert.equal(await sha256(await back.arrayBuffer()), await sha256(bytes));
    await worker.waitForLog((line) => line.includes('"path":"/attachments/scan.png"'));
    // The OpenAPI document comes from the static assets that wrangler.jsonc declares.
    const spec = await workerFetch(`${worker.url}/openapi.json`);
    assert.equal(spec.status, 200);
    assert.deepEqual(await spec.json(), servedWorkerSpec());
  } finally {
    await worker.close();
    await stack.close();
  }
});
