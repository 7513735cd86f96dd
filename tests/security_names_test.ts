/**
 * Names that would disguise a file in the agent's view (bidirectional controls, line and
 * paragraph separators) are refused with 400 `invalid_name` before any upstream call, in
 * workerd and in Deno; and the start command's request log prints a client's path with its
 * control characters escaped, so that no name forges or reorders a log line.
 */

import assert from "node:assert/strict";
import { startStandIns } from "./_standin.ts";
import { bannerCurl, onFreePorts, start } from "./_start.ts";
import { eventually } from "./_wait.ts";
import type { WorkerRuntime } from "../testing/worker.ts";

/** Every character that must be refused, by code point. */
const DISGUISING = [
  0x061c, // ARABIC LETTER MARK
  0x200e, // LEFT-TO-RIGHT MARK
  0x200f, // RIGHT-TO-LEFT MARK
  0x202a, // LEFT-TO-RIGHT EMBEDDING
  0x202b, // RIGHT-TO-LEFT EMBEDDING
  0x202c, // POP DIRECTIONAL FORMATTING
  0x202d, // LEFT-TO-RIGHT OVERRIDE
  0x202e, // RIGHT-TO-LEFT OVERRIDE
  0x2066, // LEFT-TO-RIGHT ISOLATE
  0x2067, // RIGHT-TO-LEFT ISOLATE
  0x2068, // FIRST STRONG ISOLATE
  0x2069, // POP DIRECTIONAL ISOLATE
  0x2028, // LINE SEPARATOR
  0x2029, // PARAGRAPH SEPARATOR
];

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: names with bidirectional controls or line separators are 400 invalid_name`, async () => {
    const rig = await startStandIns(runtime);
    try {
      const { token, worker, service } = rig;
      const put = (name: string) =>
        fetch(`${worker.url}/attachments/${encodeURIComponent(name)}`, {
          method: "PUT",
          headers: { "X-Amz-Bearer": token, "Content-Type": "application/pdf" },
          body: new Uint8Array(100),
        });
      for (const code of DISGUISING) {
        const name = `invoice${String.fromCodePoint(code)}fdp.exe.pdf`;
        const answer = await put(name);
        const problem = await answer.json();
        const hex = code.toString(16);
        assert.equal(answer.status, 400, `U+${hex}: ${JSON.stringify(problem)}`);
        assert.equal(problem.code, "invalid_name", `U+${hex}`);
      }
      assert.equal(service.calls.StartAttachmentUpload, 0, "no upstream call");
      // Other non-ASCII names are fine.
      const fine = await put("été – 報告 ‹v2›.pdf");
      assert.equal(fine.status, 201, await fine.text());
    } finally {
      await rig.close();
    }
  });
}

Deno.test("deno task start: the request log escapes control characters of the path", async () => {
  const run = start(onFreePorts("deno"));
  const { output } = run;
  try {
    await run.banner;
    const curl = bannerCurl(output);
    assert.ok(curl, output.join("\n"));
    const { token, uploadUrl: url } = curl;
    // A name that would print a forged line, and one that reverses the rest of its line.
    for (const path of ["a%0Aworker%20%20%7C%20PUT%20%2Fforged%20201.pdf", "b%E2%80%AEfdp.pdf"]) {
      const answer = await fetch(`${url}${path}`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token },
        body: "x",
      });
      assert.equal(answer.status, 400);
      await answer.body?.cancel();
    }
    await eventually(() => output.some((l) => l.includes("fdp.pdf")));
    const logged = output.filter((l) => l.startsWith("worker  |"));
    assert.ok(
      logged.some((l) => l.includes("/attachments/a\\u000aworker  | PUT %2Fforged 201.pdf 400")),
      logged.join("\n"),
    );
    assert.ok(logged.some((l) => l.includes("/attachments/b\\u202efdp.pdf 400")));
    assert.ok(!output.some((l) => l.startsWith("worker  | PUT %2Fforged")), "no forged line");
    assert.ok(!output.some((l) => l.includes("\u202e")), "no override printed raw");
  } finally {
    await run.stop();
  }
});
