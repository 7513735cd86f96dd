import assert from "node:assert/strict";
import { createParticipantClient } from "../src/client.ts";
import { textLines } from "../local/lines.ts";
import { descendantProcesses, processAlive, randomBytes, sha256 } from "./_support.ts";

const ROOT = new URL("..", import.meta.url).pathname;

/** Runs `deno task start` with free ports and reads its output until the banner is complete. */
function start(args: string[], env: Record<string, string> = {}) {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["task", "start", ...args],
    cwd: ROOT,
    env: { NO_COLOR: "1", WRANGLER_SEND_METRICS: "false", ...env },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const output: string[] = [];
  let bannerDone: () => void = () => {};
  const banner = new Promise<void>((resolve) => (bannerDone = resolve));
  const reading = Promise.all([child.stdout, child.stderr].map(async (stream) => {
    for await (const line of textLines(stream)) {
      output.push(line);
      if (line.includes("Press Ctrl-C to stop")) bannerDone();
    }
  }));
  return { child, output, banner, reading };
}

const MiB = 1024 * 1024;

for (const runtime of ["workerd", "deno"] as const) {
  Deno.test(`deno task start (${runtime}): its curl line uploads into the chat; SIGTERM stops all`, async () => {
    // workerd: the size limit raised by one variable, for the worker and the service alike.
    const size = runtime === "workerd" ? 21 * MiB : 1_500_000;
    const { child, output, banner, reading } = start(
      ["--s3-port", "0", "--participant-port", "0", "--worker-port", "0", "--runtime", runtime],
      runtime === "workerd" ? { MAX_ATTACHMENT_BYTES: String(22 * MiB) } : {},
    );
    let exited = false;
    const status = child.status.finally(() => (exited = true));
    try {
      await Promise.race([
        banner,
        status.then((s) => {
          throw new Error(`start exited with ${s.code}:\n${output.join("\n")}`);
        }),
      ]);
      const text = output.join("\n");
      const curlLine = /curl -T file\.pdf -H "X-Amz-Bearer: (\S+)" (http:\/\/\S+\/attachments\/)/
        .exec(text);
      assert.ok(curlLine, text);
      const [, token, uploadUrl] = curlLine;
      const participantUrl = /Participant Service\s+(http:\/\/\S+)/.exec(text)![1];
      assert.match(text, new RegExp(`Upload worker\\s+http://\\S+\\s+\\(${runtime};`));

      // What `curl -T file.pdf URL/` sends: PUT URL/file.pdf, the bytes with their length.
      const bytes = randomBytes(size, 42);
      const response = await fetch(`${uploadUrl}file.pdf`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token },
        body: bytes,
      });
      const sent = await response.json();
      assert.equal(response.status, 201, JSON.stringify(sent));
      assert.equal(sent.contentType, "application/pdf");

      const client = createParticipantClient({ endpoint: participantUrl });
      const transcript = await client.getTranscript(token, { MaxResults: 100 });
      const item = transcript.data!.Transcript!.find((i) => i.Type === "ATTACHMENT");
      assert.equal(item?.Attachments?.[0].AttachmentName, "file.pdf");
      const download = await fetch(new URL(response.headers.get("location")!, uploadUrl), {
        headers: { "X-Amz-Bearer": token },
      });
      assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));

      // SIGTERM stops everything: wrangler, workerd, the servers.
      const processes = descendantProcesses(child.pid);
      if (runtime === "workerd") {
        assert.ok(processes.some((p) => p.name === "workerd"), JSON.stringify(processes));
      }
      child.kill("SIGTERM");
      const { code } = await status;
      assert.equal(code, 0, output.join("\n"));
      const left = processes.filter((p) => processAlive(p.pid));
      assert.deepEqual(left, [], "no process outlives the start command");
      await assert.rejects(fetch(uploadUrl), "the worker's port is closed");
    } finally {
      if (!exited) child.kill("SIGKILL");
      await status;
      await reading;
    }
  });
}

Deno.test("deno task start refuses a port in use, and starts nothing", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = String((busy.addr as Deno.NetAddr).port);
    const { child, output, reading } = start([
      "--s3-port",
      "0",
      "--participant-port",
      "0",
      "--worker-port",
      port,
    ]);
    const { code } = await child.status;
    await reading;
    assert.equal(code, 1);
    assert.match(output.join("\n"), new RegExp(`127\\.0\\.0\\.1:${port} is already in use`));
    assert.match(output.join("\n"), /WORKER_PORT/);
  } finally {
    busy.close();
  }
});
