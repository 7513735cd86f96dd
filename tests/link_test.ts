/**
 * The proxy's link shape (`testing/link.ts`): a bandwidth limit that a body's size shows in,
 * shared by the connections on the link, and set-up round trips that a new connection pays
 * and a kept-alive one does not. Only lower bounds on time, which load cannot break, and
 * bounds with hundreds of milliseconds to spare that catch "never" or "every time".
 */
import assert from "node:assert/strict";
import { startProxy } from "../testing/proxy.ts";

const MiB = 1024 * 1024;

/** A TCP server that reads each connection to its end, then answers with the byte count. */
function startSink(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const conn of listener) {
      (async () => {
        let total = 0;
        const buffer = new Uint8Array(64 * 1024);
        while (true) {
          const n = await conn.read(buffer);
          if (n === null) break;
          total += n;
        }
        await conn.write(new TextEncoder().encode(String(total)));
        conn.close();
      })().catch(() => {});
    }
  })().catch(() => {});
  return { port: (listener.addr as Deno.NetAddr).port, close: () => listener.close() };
}

/** Sends `size` bytes through `port`, closes the sending side, and reads the answer. */
async function send(port: number, size: number): Promise<string> {
  const conn = await Deno.connect({ hostname: "127.0.0.1", port });
  try {
    const chunk = new Uint8Array(64 * 1024);
    for (let sent = 0; sent < size; sent += chunk.length) {
      const part = chunk.subarray(0, Math.min(chunk.length, size - sent));
      let offset = 0;
      while (offset < part.length) offset += await conn.write(part.subarray(offset));
    }
    await conn.closeWrite();
    let answer = "";
    const buffer = new Uint8Array(1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      answer += new TextDecoder().decode(buffer.subarray(0, n));
    }
    return answer;
  } finally {
    conn.close();
  }
}

Deno.test("a link's bandwidth limit: a body takes its size over the rate, shared by connections", async () => {
  const sink = startSink();
  // 8 Mbit/s: 1 MiB takes 1.05 s.
  const proxy = startProxy({
    target: { hostname: "127.0.0.1", port: sink.port },
    link: { bandwidthMbps: 8 },
  });
  try {
    let started = performance.now();
    assert.equal(await send(proxy.port, MiB), String(MiB));
    let ms = performance.now() - started;
    assert.ok(ms >= 1000, `1 MiB at 8 Mbit/s took ${ms.toFixed(0)} ms`);
    assert.ok(ms < 10_000, `1 MiB at 8 Mbit/s took ${ms.toFixed(0)} ms`);

    // Two bodies of half a MiB at once share the link: the later one ends after 1.05 s too.
    started = performance.now();
    const answers = await Promise.all([send(proxy.port, MiB / 2), send(proxy.port, MiB / 2)]);
    ms = performance.now() - started;
    assert.deepEqual(answers, [String(MiB / 2), String(MiB / 2)]);
    assert.ok(ms >= 1000, `2 × 0.5 MiB at 8 Mbit/s took ${ms.toFixed(0)} ms`);
  } finally {
    await proxy.close();
    sink.close();
  }
});

Deno.test("a link's set-up round trips: a new connection pays them, a kept-alive one does not", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    () => new Response("hi"),
  );
  // 100 ms round trip, 5 round trips to set a connection up.
  const proxy = startProxy({
    target: { hostname: "127.0.0.1", port: server.addr.port },
    latencyMs: 100,
    link: { setupRoundTrips: 5 },
  });
  const client = Deno.createHttpClient({});
  const get = async () => {
    const started = performance.now();
    const response = await fetch(proxy.url, { client });
    assert.equal(await response.text(), "hi");
    return performance.now() - started;
  };
  try {
    const cold = await get();
    assert.ok(cold >= 600, `a new connection answered in ${cold.toFixed(0)} ms`);
    const warm = await get();
    assert.equal(proxy.stats.connections, 1, "the second request reused the connection");
    assert.ok(warm >= 100, `a kept-alive connection answered in ${warm.toFixed(0)} ms`);
    assert.ok(warm < 500, `a kept-alive connection answered in ${warm.toFixed(0)} ms`);
  } finally {
    client.close();
    await proxy.close();
    await server.shutdown();
  }
});

Deno.test("a link refuses a shape it cannot model", () => {
  const target = { hostname: "127.0.0.1", port: 9 };
  assert.throws(() => startProxy({ target, link: { bandwidthMbps: 0 } }), RangeError);
  assert.throws(() => startProxy({ target, link: { setupRoundTrips: 1.5 } }), RangeError);
});
