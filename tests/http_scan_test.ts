import assert from "node:assert/strict";
import { RequestScanner } from "../local/http_scan.ts";
import { startProxy } from "../local/proxy.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("RequestScanner finds each head of a kept-alive connection, across chunk splits", () => {
  const stream = "PUT /a HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello" +
    "GET /b HTTP/1.1\r\nHost: x\r\n\r\n" +
    "PUT /c HTTP/1.1\r\ncontent-length: 3\r\n\r\nabc";
  for (const size of [1, 2, 7, 64, stream.length]) {
    const scanner = new RequestScanner();
    const lines: string[] = [];
    for (let i = 0; i < stream.length; i += size) {
      for (const head of scanner.push(bytes(stream.slice(i, i + size)))) {
        lines.push(head.text.split("\r\n")[0]);
      }
    }
    assert.deepEqual(lines, ["PUT /a HTTP/1.1", "GET /b HTTP/1.1", "PUT /c HTTP/1.1"], `${size}`);
  }
});

Deno.test("RequestScanner stops at a chunked body rather than guess", () => {
  const scanner = new RequestScanner();
  const heads = scanner.push(
    bytes("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nGET /x HTTP/1.1\r\n\r\n"),
  );
  assert.equal(heads.length, 1);
  assert.equal(scanner.lost, true);
});

Deno.test("the proxy records request heads and strikes single requests on kept-alive connections", async () => {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    async (request) => new Response(`got ${(await request.arrayBuffer()).byteLength}`),
  );
  const proxy = startProxy({
    target: { hostname: "127.0.0.1", port: server.addr.port },
    recordHeads: true,
  });
  try {
    const put = async (i: number) => {
      try {
        const response = await fetch(`${proxy.url}/item/${i}`, {
          method: "PUT",
          headers: { "x-try": String(i) },
          body: new Uint8Array(1000),
        });
        return `${response.status} ${await response.text()}`;
      } catch {
        return "broken";
      }
    };
    const clean: string[] = [];
    for (let i = 0; i < 5; i++) clean.push(await put(i));
    assert.deepEqual(clean, Array(5).fill("200 got 1000"));
    assert.equal(proxy.stats.requests, 5);
    assert.match(proxy.heads[3], /^PUT \/item\/3 HTTP\/1.1\r\n/);
    assert.match(proxy.heads[3], /\r\nx-try: 3\r\n/i);

    proxy.strikeRequests({
      rate: 0.5,
      seed: 7,
      faults: [{ kind: "respond", status: 503, code: "SlowDown" }, {
        kind: "reset",
        afterBytes: 10,
      }],
    });
    const outcomes: string[] = [];
    for (let i = 0; i < 20; i++) outcomes.push(await put(i));
    const struck = outcomes.filter((o) => o !== "200 got 1000");
    // A struck request may be sent again by the client on a fresh connection, unseen.
    assert.ok(struck.length <= proxy.stats.struck);
    assert.ok(struck.length > 3 && struck.length < 17, `${struck.length} of 20 struck`);
    assert.ok(struck.some((o) => o.startsWith("503 ") && o.includes("<Code>SlowDown</Code>")));
    // Only the requests seen while striking was on could be struck: the rate's denominator.
    assert.equal(proxy.stats.eligible, proxy.stats.requests - 5);
    proxy.strikeRequests(undefined);
    assert.equal(await put(99), "200 got 1000");
    assert.equal(proxy.stats.eligible, proxy.stats.requests - 6, "off: not eligible");
  } finally {
    await proxy.close();
    await server.shutdown();
  }
});
