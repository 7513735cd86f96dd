import assert from "node:assert/strict";
import { createNodePut } from "../src/_library/put_node.ts";
import { fetchPut } from "../src/_core/put.ts";
import { randomBytes, sha256, streamOf } from "../testing/data.ts";

interface Seen {
  contentLength: string | null;
  transferEncoding: string | null;
  custom: string | null;
  bytes: number;
  digest: string;
  complete: boolean;
}

/** A server that records each PUT: its framing headers and how many bytes arrived. */
function recordingServer() {
  const seen: Seen[] = [];
  let arrived: () => void;
  let next = new Promise<void>((r) => (arrived = r));
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, async (req) => {
    const entry: Seen = {
      contentLength: req.headers.get("content-length"),
      transferEncoding: req.headers.get("transfer-encoding"),
      custom: req.headers.get("x-amz-meta-test"),
      bytes: 0,
      digest: "",
      complete: false,
    };
    const chunks: Uint8Array[] = [];
    try {
      for await (const chunk of req.body!) {
        chunks.push(chunk);
        entry.bytes += chunk.byteLength;
      }
      entry.complete = true;
      entry.digest = await sha256(await new Blob(chunks as BlobPart[]).arrayBuffer());
    } catch {
      // The client broke the body off.
    }
    seen.push(entry);
    arrived();
    next = new Promise<void>((r) => (arrived = r));
    return new Response(entry.complete ? "" : "<Error><Code>IncompleteBody</Code></Error>", {
      status: entry.complete ? 200 : 400,
    });
  });
  return {
    url: `http://127.0.0.1:${server.addr.port}/bucket/key`,
    seen,
    nextArrival: () => next,
    close: () => server.shutdown(),
  };
}

Deno.test("createNodePut streams a body with the exact Content-Length, never chunked, and counts progress", async () => {
  const server = recordingServer();
  try {
    const bytes = randomBytes(250_000, 3);
    const progress: number[] = [];
    const put = createNodePut({ onProgress: ({ loaded }) => progress.push(loaded) });
    const answer = await put(server.url, {
      headers: { "x-amz-meta-test": "kept", "Content-Length": String(bytes.length) },
      body: streamOf(bytes, 10_000),
      size: bytes.length,
    });
    assert.equal(answer.status, 200);
    const [seen] = server.seen;
    assert.equal(seen.contentLength, String(bytes.length));
    assert.equal(seen.transferEncoding, null);
    assert.equal(seen.custom, "kept");
    assert.equal(seen.digest, await sha256(bytes));
    assert.equal(progress[0], 0);
    assert.equal(progress.at(-1), bytes.length);
    assert.ok(progress.length > 2, "progress is told chunk by chunk");
    assert.deepEqual(progress, [...progress].sort((a, b) => a - b));
  } finally {
    await server.close();
  }
});

Deno.test("fetchPut in Deno sends a generic stream chunked: why createNodePut exists", async () => {
  const server = recordingServer();
  try {
    const bytes = randomBytes(50_000, 4);
    const answer = await fetchPut(server.url, {
      headers: { "content-length": String(bytes.length) },
      body: streamOf(bytes, 10_000),
      size: bytes.length,
    });
    await answer.body?.cancel();
    assert.equal(server.seen[0].transferEncoding, "chunked");
    assert.equal(server.seen[0].contentLength, null);
  } finally {
    await server.close();
  }
});

Deno.test("createNodePut fails a stream shorter or longer than its size; the server never gets a whole body", async () => {
  const server = recordingServer();
  try {
    const bytes = randomBytes(100_000, 5);
    const put = createNodePut();
    const arrival = server.nextArrival();
    await assert.rejects(
      put(server.url, {
        headers: {},
        body: streamOf(bytes.slice(0, 60_000), 10_000),
        size: bytes.length,
      }),
      /ended after 60000 of the 100000 bytes/,
    );
    await arrival;
    assert.equal(server.seen[0].complete, false);
    assert.ok(server.seen[0].bytes < bytes.length);

    // One byte too many: the last chunk is held back until the stream ends, so the server
    // never receives `size` bytes.
    const second = server.nextArrival();
    const longer = new Uint8Array(bytes.length + 1);
    longer.set(bytes);
    await assert.rejects(
      put(server.url, { headers: {}, body: streamOf(longer, 10_000), size: bytes.length }),
      /more than the 100000 bytes/,
    );
    await second;
    assert.equal(server.seen[1].complete, false);
    assert.ok(server.seen[1].bytes < bytes.length);
  } finally {
    await server.close();
  }
});

Deno.test("createNodePut stops at once when aborted", async () => {
  const server = recordingServer();
  try {
    const controller = new AbortController();
    const endless = new ReadableStream<Uint8Array>({
      pull: (c) => c.enqueue(new Uint8Array(1000)),
    });
    // Aborted once bytes are on their way, so that the server has a request to record.
    const put = createNodePut({
      onProgress: ({ loaded }) => loaded >= 3000 && controller.abort(new Error("stop")),
    });
    const arrival = server.nextArrival();
    await assert.rejects(
      put(server.url, {
        headers: {},
        body: endless,
        size: 1_000_000,
        signal: controller.signal,
      }),
      /stop/,
    );
    await arrival;
    assert.equal(server.seen[0].complete, false);
  } finally {
    await server.close();
  }
});
