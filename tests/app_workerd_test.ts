import assert from "node:assert/strict";
import { appCases } from "./_app_cases.ts";
import { startWorker } from "./_worker.ts";

appCases("workerd");

Deno.test("upload worker in workerd: a bad configuration answers 500 misconfigured", async () => {
  const worker = await startWorker({
    runtime: "workerd",
    participantUrl: "",
    uploadHosts: [],
    vars: { MAX_ATTACHMENT_BYTES: "lots" },
  });
  try {
    const response = await fetch(`${worker.url}/healthz`);
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
