/**
 * The Participant Service client (`src/client.ts`) runs unchanged in Node and in Chromium:
 * one scenario module (`tests/_client_scenario.ts`) with the client, bundled once for the
 * browser platform, run by the `node` on the PATH and by headless Chromium against the local
 * stack, with a throttled call and a lost answer on the way. (Deno and workerd run the same
 * client in the rest of the suite: the worker's every upstream call goes through it.)
 */

import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { listAttachments } from "../src/_library/transcript.ts";
import { bundleForBrowser } from "../worker/_build/page_script.ts";
import type { ScenarioInput, ScenarioReport, SeenError } from "./_client_scenario.ts";
import { ignoreWithoutChromium, launchBrowser } from "../testing/browser.ts";
import { runCommand } from "./_run.ts";

const SCENARIO = new URL("./_client_scenario.ts", import.meta.url);

let bundled: Promise<string> | undefined;
/** The scenario and the client, as one ES module for the browser platform. */
const scenarioBundle = () => bundled ??= bundleForBrowser(SCENARIO);

interface Run {
  stack: LocalStack;
  input: ScenarioInput;
  /** A ConnectionToken of the same chat, for checks from Deno. */
  connectionToken: string;
}

/** A local stack, a chat on it, and the faults the scenario expects armed. */
async function withChat(putBytes: boolean, fn: (run: Run) => Promise<void>) {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  try {
    const chat = await openChat(createParticipantClient({ endpoint: stack.participantUrl }));
    stack.service.faults.add({ operation: "StartAttachmentUpload", kind: "throttle", count: 1 });
    stack.service.faults.add({ operation: "GetTranscript", kind: "drop", when: "after", count: 1 });
    await fn({
      stack,
      input: { endpoint: stack.participantUrl, participantToken: chat.participantToken, putBytes },
      connectionToken: chat.connectionToken,
    });
  } finally {
    await stack.close();
  }
}

/** What every runtime must show, whatever it does with the bytes. */
function assertCommon(report: ScenarioReport, stack: LocalStack) {
  assert.equal(report.connected, true);
  assert.deepEqual(report.startRetries, [429], "the throttled start was tried again");
  assert.equal(report.transcriptRetries.length, 1, "the lost transcript answer was tried again");
  assert.deepEqual(report.otherRetries, []);
  assert.match(report.attachmentId ?? "", /^[0-9a-f-]{36}$/);
  const denied = report.denied as SeenError;
  assert.equal(denied.name, "AccessDeniedException");
  assert.equal(denied.status, 403);
  assert.equal(denied.retryable, false);
  assert.equal(denied.hasRequestId, true, "X-Amzn-RequestId reached the caller");
  // Both faults struck, once each.
  assert.deepEqual(Object.fromEntries(stack.service.faults.hits), {
    "StartAttachmentUpload:throttle": 1,
    "GetTranscript:drop": 1,
  });
}

Deno.test("the client runs unchanged in Node: start, PUT, complete, typed errors, retries", async () => {
  const dir = await Deno.makeTempDir({ prefix: "client-node-" });
  try {
    await Deno.writeTextFile(`${dir}/scenario.mjs`, await scenarioBundle());
    await Deno.writeTextFile(
      `${dir}/run.mjs`,
      'import { runClientScenario } from "./scenario.mjs";\n' +
        "const report = await runClientScenario(JSON.parse(process.argv[2]));\n" +
        "console.log(JSON.stringify(report));\n",
    );
    await withChat(true, async ({ stack, input, connectionToken }) => {
      const node = await runCommand("node", ["run.mjs", JSON.stringify(input)], { cwd: dir });
      assert.equal(node.code, 0, node.stderr);
      const report = JSON.parse(node.stdout) as ScenarioReport;
      assert.match(report.runtime, /^v\d+\./, "ran in Node");
      assertCommon(report, stack);
      assert.equal(report.putStatus, 200);
      assert.equal(report.complete, "ok");
      assert.deepEqual(report.transcriptAttachmentIds, [report.attachmentId]);

      // The chat, read from Deno, holds that one attachment.
      const listed = await listAttachments({ endpoint: stack.participantUrl, connectionToken });
      assert.deepEqual(listed.map((a) => a.attachmentId), [report.attachmentId]);
    });
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "the client runs unchanged in Chromium: typed errors across CORS, retries, no bytes no completion",
  ignore: ignoreWithoutChromium("client in Chromium"),
  async fn() {
    const script = await scenarioBundle();
    // A page of its own origin, apart from the service's: every call is cross-origin.
    const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
      const { pathname } = new URL(request.url);
      if (pathname === "/scenario.js") {
        return new Response(script, { headers: { "content-type": "text/javascript" } });
      }
      return new Response("<!doctype html><title>client</title>", {
        headers: { "content-type": "text/html" },
      });
    });
    const browser = await launchBrowser();
    try {
      await withChat(false, async ({ stack, input }) => {
        const page = await browser.newPage();
        await page.goto(`http://127.0.0.1:${server.addr.port}/`);
        const report = await page.evaluate(async (input) => {
          const scenario = await import("/scenario.js");
          return await scenario.runClientScenario(input);
        }, input) as ScenarioReport;
        assert.match(report.runtime, /Chrome\//, "ran in Chromium");
        assertCommon(report, stack);
        assert.equal(report.putStatus, undefined);
        // No bytes reached S3: the service refuses to complete, and the chat shows nothing.
        const refused = report.complete as SeenError;
        assert.equal(refused.name, "ConflictException");
        assert.equal(refused.status, 409);
        assert.equal(refused.retryable, false);
        assert.equal(refused.hasRequestId, true);
        assert.deepEqual(report.transcriptAttachmentIds, []);
        assert.deepEqual(browser.pageErrors, []);
      });
    } finally {
      await browser.close();
      await server.shutdown();
    }
  },
});
