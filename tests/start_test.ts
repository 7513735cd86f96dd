import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { descendantProcesses, processAlive } from "../testing/processes.ts";
import { randomBytes, sha256 } from "../testing/data.ts";
import { bannerCurl, bannerField, onFreePorts, start } from "./_start.ts";
import { workerFetch } from "./_worker_contract.ts";

const MiB = 1024 * 1024;

for (const runtime of ["workerd", "deno"] as const) {
  Deno.test(`deno task start (${runtime}): its curl line uploads into the chat; SIGTERM stops all`, async () => {
    // workerd: the size limit raised by one variable, for the worker and the service alike.
    const size = runtime === "workerd" ? 21 * MiB : 1_500_000;
    const run = start(
      onFreePorts(runtime),
      runtime === "workerd" ? { MAX_ATTACHMENT_BYTES: String(22 * MiB) } : {},
    );
    const { child, output, status } = run;
    try {
      await run.banner;
      const text = output.join("\n");
      const banner = bannerCurl(output);
      assert.ok(banner, text);
      const { token, uploadUrl } = banner;
      const field = (name: string) => bannerField(output, name);
      const participantUrl = field("Participant Service");
      assert.match(participantUrl, /^http:\/\/127\.0\.0\.1:\d+$/);
      assert.match(
        field("Upload worker"),
        new RegExp(`^http://127\\.0\\.0\\.1:\\d+ \\(${runtime};`),
      );
      assert.equal(field("ConnectionToken"), token);
      // The worker's own limit: the one variable where it is given, else its default (the
      // instance's limit applies at StartAttachmentUpload).
      const policy = await workerFetch(`${field("Upload worker").split(" ")[0]}/policy`);
      assert.equal((await policy.json()).maxBytes, runtime === "workerd" ? 22 * MiB : 104_857_600);
      const s3Data = field("S3 data");
      assert.ok((await Deno.stat(s3Data)).isDirectory);
      // The development page is on for the local stack.
      const pageUrl = field("Attachment page").split(" ")[0];
      const page = await fetch(pageUrl);
      assert.equal(page.status, 200);
      assert.match(await page.text(), /<title>Chat attachments/);
      const script = await fetch(new URL("/dev/page.js", pageUrl));
      assert.match(script.headers.get("content-type")!, /^text\/javascript/);
      await script.body?.cancel();
      // The bucket lets the development page's origin (the worker's) PUT and GET.
      const workerOrigin = field("Upload worker").split(" ")[0];
      assert.equal(field("Bucket CORS origins"), workerOrigin);
      assert.equal(field("Scanning"), "off");
      const s3Url = field("Local S3").split(" ")[0];
      const preflight = await fetch(`${s3Url}/connect-attachments/some-key`, {
        method: "OPTIONS",
        headers: { Origin: workerOrigin, "Access-Control-Request-Method": "PUT" },
      });
      assert.equal(preflight.status, 200);
      assert.equal(preflight.headers.get("access-control-allow-origin"), workerOrigin);
      await preflight.body?.cancel();

      // A streamed (chunked) body is refused with 411 before it is read (curl reads the answer
      // while it sends); the stack must stay healthy for the uploads that follow.
      const streamed = await Deno.makeTempFile({ suffix: ".pdf" });
      await Deno.writeFile(streamed, randomBytes(1024 * 1024, 3));
      for (let i = 0; i < 3; i++) {
        const curl = await new Deno.Command("curl", {
          args: [
            "-s",
            "-X",
            "PUT",
            "-H",
            `X-Amz-Bearer: ${token}`,
            "-H",
            "Transfer-Encoding: chunked",
            "--data-binary",
            `@${streamed}`,
            `${uploadUrl}streamed.pdf`,
          ],
          stdout: "piped",
          stderr: "null",
        }).output();
        const answer = new TextDecoder().decode(curl.stdout);
        assert.match(answer, /"code":"length_required"/);
      }
      await Deno.remove(streamed);

      // The banner's curl line as it stands: over 1 MB, curl sends `Expect: 100-continue` and
      // holds the body back until `100 Continue` comes (or a second passes). It must come: from
      // the relay in front of workerd, or from Deno.serve.
      const file = await Deno.makeTempFile({ suffix: ".pdf" });
      await Deno.writeFile(file, randomBytes(1_500_000, 5));
      const curl = await new Deno.Command("curl", {
        args: ["-sS", "-v", "-T", file, "-H", `X-Amz-Bearer: ${token}`, uploadUrl],
        stdout: "piped",
        stderr: "piped",
      }).output();
      await Deno.remove(file);
      const trace = new TextDecoder().decode(curl.stderr);
      assert.match(trace, /^> Expect: 100-continue\r?$/m, trace);
      assert.match(trace, /^< HTTP\/1\.1 100 Continue/m, trace);
      assert.doesNotMatch(trace, /Done waiting for 100-continue/, trace);
      assert.match(trace, /^< HTTP\/1\.1 201 /m, trace);

      // What `curl -T file.pdf URL/` sends: PUT URL/file.pdf, the bytes with their length.
      const bytes = randomBytes(size, 42);
      const response = await workerFetch(`${uploadUrl}file.pdf`, {
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
      const download = await workerFetch(new URL(response.headers.get("location")!, uploadUrl), {
        headers: { "X-Amz-Bearer": token },
      });
      assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));

      // SIGTERM stops everything: workerd and the servers.
      const processes = descendantProcesses(child.pid);
      if (runtime === "workerd") {
        assert.ok(processes.some((p) => p.name === "workerd"), JSON.stringify(processes));
      }
      child.kill("SIGTERM");
      const { code } = await status;
      assert.equal(code, 0, output.join("\n"));
      const left = processes.filter((p) => processAlive(p.pid));
      assert.deepEqual(left, [], "no process outlives the start command");
      await assert.rejects(Deno.stat(s3Data), Deno.errors.NotFound, "the S3 data is removed");
      await assert.rejects(fetch(uploadUrl), "the worker's port is closed");
    } finally {
      await run.stop();
    }
  });
}

for (const variable of ["WORKER_PORT", "PARTICIPANT_PORT"]) {
  Deno.test(`deno task start refuses a port in use (${variable}), and starts nothing`, async () => {
    const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    try {
      const port = String((busy.addr as Deno.NetAddr).port);
      // The flag for the port under test is left out: its variable decides.
      const flags = {
        S3_PORT: "--s3-port",
        PARTICIPANT_PORT: "--participant-port",
        WORKER_PORT: "--worker-port",
      };
      const args = Object.entries(flags).filter(([name]) => name !== variable)
        .flatMap(([, flag]) => [flag, "0"]);
      const { output, status, reading } = start(args, { [variable]: port });
      const { code } = await status;
      await reading;
      assert.equal(code, 1);
      const text = output.join("\n");
      assert.match(text, new RegExp(`127\\.0\\.0\\.1:${port} is already in use.*${variable}`));
      assert.doesNotMatch(text, /Ready\./);
    } finally {
      busy.close();
    }
  });
}
