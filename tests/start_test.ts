import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { createParticipantClient } from "../src/client.ts";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Reads a child's stdout line by line until `done` says stop; returns the lines. */
async function readUntil(
  stream: ReadableStream<Uint8Array>,
  done: (line: string) => boolean,
): Promise<string[]> {
  const lines: string[] = [];
  let buffer = "";
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  try {
    while (true) {
      const { value, done: ended } = await reader.read();
      if (ended) return lines;
      buffer += value;
      let newline;
      while ((newline = buffer.indexOf("\n")) >= 0) {
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + 1);
        lines.push(line);
        if (done(line)) return lines;
      }
    }
  } finally {
    reader.releaseLock();
  }
}

function field(lines: string[], name: string): string {
  const line = lines.find((l) => l.startsWith(`${name}:`));
  assert.ok(line, `${name} printed in:\n${lines.join("\n")}`);
  return line.slice(name.length + 1).trim();
}

Deno.test("`deno task start` brings the stack up, prints a ready ConnectionToken, stops on SIGTERM", async () => {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "local/start.ts", "--quiet", "--s3-port", "0"],
    cwd: root,
    env: { PARTICIPANT_PORT: "0", NO_COLOR: "1" },
    stdout: "piped",
    stderr: "null",
  }).spawn();
  try {
    const lines = await readUntil(child.stdout, (l) => l.startsWith("Ready"));
    const participantUrl = field(lines, "Participant Service");
    const connectionToken = field(lines, "ConnectionToken");
    const directory = field(lines, "S3 data");
    assert.match(field(lines, "Local S3"), /^http:\/\/127\.0\.0\.1:\d+ \(bucket /);
    const client = createParticipantClient({ endpoint: participantUrl, retry: false });
    const transcript = await client.getTranscript(connectionToken);
    assert.ok(transcript.data, JSON.stringify(transcript.error));
    assert.equal(transcript.data.Transcript![0].Type, "PARTICIPANT_JOINED");
    assert.ok((await Deno.stat(directory)).isDirectory);
    child.kill("SIGTERM");
    const status = await child.status;
    assert.equal(status.code, 0);
    await assert.rejects(Deno.stat(directory), Deno.errors.NotFound);
  } finally {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
    await child.stdout.cancel().catch(() => {});
    await child.status;
  }
});

Deno.test("`deno task start` refuses a port in use and names the variable to change", async () => {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const { code, stderr } = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "local/start.ts", "--quiet", "--s3-port", "0"],
      cwd: root,
      env: { PARTICIPANT_PORT: String((listener.addr as Deno.NetAddr).port), NO_COLOR: "1" },
      stdout: "null",
      stderr: "piped",
    }).output();
    assert.equal(code, 1);
    assert.match(new TextDecoder().decode(stderr), /already in use.*PARTICIPANT_PORT/);
  } finally {
    listener.close();
  }
});
