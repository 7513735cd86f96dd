import assert from "node:assert/strict";
import net from "node:net";
import { declaredLength } from "../testing/http_scan.ts";
import { startProxy } from "../testing/proxy.ts";
import { startWorkerd } from "../testing/workerd.ts";
import { startRelay } from "../testing/relay.ts";
import { startLocalStack } from "../local/stack.ts";
import { openChat } from "../local/chat.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import { randomBytes } from "../testing/data.ts";
import { workerBundle } from "../testing/worker.ts";

const LATIN1 = new TextDecoder("latin1");
const encode = (text: string) => new TextEncoder().encode(text);

/** Long enough to catch "never" on a loaded machine; curl itself gives up after 1 s. */
const INTERIM_BOUND_MS = 5_000;

/** A client connection that reads exactly what the server sends, answer by answer. */
class Wire {
  #buffer = new Uint8Array(0);
  constructor(readonly conn: Deno.Conn) {}

  static async open(url: string): Promise<Wire> {
    const { hostname, port } = new URL(url);
    return new Wire(await Deno.connect({ hostname, port: Number(port) }));
  }

  async write(bytes: Uint8Array | string): Promise<void> {
    const data = typeof bytes === "string" ? encode(bytes) : bytes;
    for (let at = 0; at < data.length;) at += await this.conn.write(data.subarray(at));
  }

  /** Reads one head (status line and fields), or `undefined` if none came in `timeoutMs`. */
  async head(timeoutMs = 30_000): Promise<string | undefined> {
    const deadline = Date.now() + timeoutMs;
    while (true) {
      const at = LATIN1.decode(this.#buffer).indexOf("\r\n\r\n");
      if (at >= 0) {
        const head = LATIN1.decode(this.#buffer.subarray(0, at + 4));
        this.#buffer = this.#buffer.subarray(at + 4);
        return head;
      }
      const left = deadline - Date.now();
      if (left <= 0 || !await this.#more(left)) return undefined;
    }
  }

  /** Reads a whole answer with a `Content-Length` body. */
  async answer(): Promise<{ head: string; body: string }> {
    const head = await this.head();
    assert.ok(head, "an answer");
    const length = declaredLength(head) ?? 0;
    while (this.#buffer.length < length) assert.ok(await this.#more(30_000), "the whole body");
    const body = new TextDecoder().decode(this.#buffer.subarray(0, length));
    this.#buffer = this.#buffer.subarray(length);
    return { head, body };
  }

  /** Reads and drops `n` bytes; `false` if the connection ended first. */
  async skip(n: number): Promise<boolean> {
    while (this.#buffer.length < n) {
      if (!await this.#more(60_000)) return false;
    }
    this.#buffer = this.#buffer.subarray(n);
    return true;
  }

  async #more(timeoutMs: number): Promise<boolean> {
    const chunk = new Uint8Array(64 * 1024);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const n = await Promise.race([
      this.conn.read(chunk),
      new Promise<"late">((resolve) => (timer = setTimeout(() => resolve("late"), timeoutMs))),
    ]);
    clearTimeout(timer);
    if (n === "late" || n === null) return false;
    const next = new Uint8Array(this.#buffer.length + n);
    next.set(this.#buffer);
    next.set(chunk.subarray(0, n), this.#buffer.length);
    this.#buffer = next;
    return true;
  }

  close(): void {
    try {
      this.conn.close();
    } catch { /* closed */ }
  }
}

/**
 * An HTTP/1.1 server that, like workerd, never sends `100 Continue`: it reads each request's
 * head and `Content-Length` body, waits `delayMs`, then answers `got <n> bytes` (in two writes,
 * a moment apart). It keeps every head it received, byte for byte.
 */
function originWithoutContinue(delayMs = 0) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const heads: string[] = [];
  const serve = async (conn: Deno.Conn) => {
    const wire = new Wire(conn);
    try {
      while (true) {
        const head = await wire.head(60_000);
        if (!head) return;
        heads.push(head);
        const length = Number(/^content-length:\s*(\d+)/im.exec(head)?.[1] ?? 0);
        if (!await wire.skip(length)) return;
        await new Promise((r) => setTimeout(r, delayMs));
        const body = `got ${length} bytes`;
        await wire.write(`HTTP/1.1 200 OK\r\ncontent-length: ${body.length}\r\n\r\n`);
        await new Promise((r) => setTimeout(r, delayMs));
        await wire.write(body);
      }
    } catch {
      /* the client went away */
    } finally {
      wire.close();
    }
  };
  const connections: Promise<void>[] = [];
  const accepting = (async () => {
    for await (const conn of listener) connections.push(serve(conn));
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    heads,
    async close() {
      listener.close();
      await accepting.catch(() => {});
      await Promise.allSettled(connections);
    },
  };
}

Deno.test("the relay answers Expect: 100-continue before the body, and passes the head on untouched", async () => {
  const origin = originWithoutContinue();
  const relay = startProxy({
    target: { hostname: "127.0.0.1", port: origin.port },
    answerContinue: true,
  });
  const wire = await Wire.open(relay.url);
  try {
    const body = randomBytes(300_000);
    const sent: string[] = [];
    for (const path of ["/first", "/second"]) {
      // Two uploads on one kept-alive connection, each waiting for 100 before its body.
      const head = `PUT ${path} HTTP/1.1\r\nHost: worker.test\r\nContent-Length: 300000\r\n` +
        `Expect: 100-continue\r\nX-Amz-Bearer: token\r\n\r\n`;
      sent.push(head);
      await wire.write(head);
      assert.equal(await wire.head(INTERIM_BOUND_MS), "HTTP/1.1 100 Continue\r\n\r\n", path);
      await wire.write(body);
      const { head: final, body: text } = await wire.answer();
      assert.match(final, /^HTTP\/1\.1 200 OK\r\n/);
      assert.equal(text, "got 300000 bytes");
    }
    // No expectation, or HTTP/1.0: no interim answer, straight to the final one.
    for (const version of ["1.1", "1.0"]) {
      const head = `PUT /plain HTTP/${version}\r\nHost: worker.test\r\nContent-Length: 5\r\n` +
        (version === "1.0" ? "Expect: 100-continue\r\nConnection: keep-alive\r\n" : "") + "\r\n";
      sent.push(head);
      await wire.write(head + "hello");
      const { head: final, body: text } = await wire.answer();
      assert.match(final, /^HTTP\/1\.1 200 OK\r\n/, version);
      assert.equal(text, "got 5 bytes");
    }
    assert.equal(relay.stats.continued, 2);
    assert.deepEqual(origin.heads, sent, "the origin saw every head exactly as sent");
  } finally {
    wire.close();
    await relay.close();
    await origin.close();
  }
});

Deno.test("the relay never puts its 100 inside another answer", async () => {
  // A client that pipelines: a GET, and at once a PUT that expects 100. The origin answers the
  // GET slowly, in two parts; the relay must not slip `100 Continue` between them.
  const origin = originWithoutContinue(150);
  const relay = startProxy({
    target: { hostname: "127.0.0.1", port: origin.port },
    answerContinue: true,
  });
  const wire = await Wire.open(relay.url);
  try {
    await wire.write(
      "GET /slow HTTP/1.1\r\nHost: worker.test\r\n\r\n" +
        "PUT /next HTTP/1.1\r\nHost: worker.test\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n",
    );
    const first = await wire.answer();
    assert.equal(first.head, "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n");
    assert.equal(first.body, "got 0 bytes");
    await wire.write("data");
    const second = await wire.answer();
    assert.equal(second.head, "HTTP/1.1 200 OK\r\ncontent-length: 11\r\n\r\n");
    assert.equal(second.body, "got 4 bytes");
    assert.equal(relay.stats.continued, 0);
  } finally {
    wire.close();
    await relay.close();
    await origin.close();
  }
});

Deno.test("an early answer reaches the client that is still sending, as the server sent it", async () => {
  // A server that refuses a body by its head (as the worker does with 411, 413 and 415) and
  // then resets the connection (as workerd does; node:net's resetAndDestroy does the same),
  // while the client is still sending. Through the relay, the client must be able to go on
  // sending until it reads the refusal: the relay passes the answer on, ends its side, and
  // keeps taking the client's bytes, rather than reset a connection whose client has not yet
  // read its answer (curl gives up on a failed write and never reads the answer it has).
  const refusal = '{"code":"payload_too_large"}';
  const origin = net.createServer((socket) => {
    socket.once("data", () => {
      socket.write(
        `HTTP/1.1 413 Payload Too Large\r\ncontent-length: ${refusal.length}\r\n` +
          `connection: close\r\n\r\n${refusal}`,
        () => setTimeout(() => socket.resetAndDestroy(), 50),
      );
    });
    socket.on("error", () => {});
  });
  await new Promise<void>((resolve) => origin.listen(0, "127.0.0.1", resolve));
  const relay = startProxy({
    target: { hostname: "127.0.0.1", port: (origin.address() as net.AddressInfo).port },
    answerContinue: true,
  });
  try {
    for (let round = 0; round < 5; round++) {
      const wire = await Wire.open(relay.url);
      try {
        await wire.write(
          "PUT /big HTTP/1.1\r\nHost: worker.test\r\nContent-Length: 209715200\r\n\r\n",
        );
        // 64 MiB more of the body, the answer unread meanwhile: every write must go through.
        const chunk = randomBytes(256 * 1024, round);
        const failed: string[] = [];
        for (let sent = 0; sent < 64 * 1024 * 1024; sent += chunk.length) {
          let timer: ReturnType<typeof setTimeout> | undefined;
          const outcome = await Promise.race([
            wire.write(chunk).then(() => "ok", (e) => `${e}`),
            new Promise<string>((resolve) => (timer = setTimeout(() => resolve("stuck"), 5000))),
          ]);
          clearTimeout(timer);
          if (outcome !== "ok") failed.push(outcome);
        }
        assert.deepEqual(failed, [], `round ${round}: the client's writes failed`);
        const { head, body } = await wire.answer();
        assert.match(head, /^HTTP\/1\.1 413 /, `round ${round}`);
        assert.equal(body, refusal);
      } finally {
        wire.close();
      }
    }
  } finally {
    await relay.close();
    await new Promise((resolve) => origin.close(resolve));
  }
});

Deno.test("workerd behind the relay: an upload that waits for 100 gets it, then lands in the chat", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const worker = await startWorkerd({
    scriptPath: await workerBundle(),
    vars: { PARTICIPANT_ENDPOINT: stack.participantUrl, UPLOAD_HOSTS: new URL(stack.s3.url).host },
    answerContinue: true,
  });
  const wire = await Wire.open(worker.url);
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const body = randomBytes(2 * 1024 * 1024, 7);
    await wire.write(
      `PUT /attachments/waited.pdf HTTP/1.1\r\nHost: ${new URL(worker.url).host}\r\n` +
        `Content-Length: ${body.length}\r\nExpect: 100-continue\r\nX-Amz-Bearer: ${connectionToken}\r\n\r\n`,
    );
    // Nothing of the body is sent before the interim answer.
    assert.equal(await wire.head(INTERIM_BOUND_MS), "HTTP/1.1 100 Continue\r\n\r\n");
    await wire.write(body);
    const { head, body: json } = await wire.answer();
    assert.match(head, /^HTTP\/1\.1 201 /, json);
    assert.equal(JSON.parse(json).size, body.length);
    const transcript = await client.getTranscript(connectionToken, { MaxResults: 100 });
    const names = transcript.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT")
      .map((i) => i.Attachments?.[0].AttachmentName);
    assert.deepEqual(names, ["waited.pdf"]);
    assert.equal((await worker.relay!.stats()).continued, 1);
  } finally {
    wire.close();
    await worker.close();
    await stack.close();
  }
});

Deno.test("the relay refuses a port in use", async () => {
  const busy = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  try {
    const port = (busy.addr as Deno.NetAddr).port;
    await assert.rejects(
      startRelay({ target: { hostname: "127.0.0.1", port: 9 }, port }),
      new RegExp(`127\\.0\\.0\\.1:${port} is already in use`),
    );
  } finally {
    busy.close();
  }
});
