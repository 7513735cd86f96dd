import assert from "node:assert/strict";
import { RequestScanner, ResponseScanner } from "../testing/http_scan.ts";
import { startProxy } from "../testing/proxy.ts";

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

Deno.test("ResponseScanner tells when each request's whole final response has passed", () => {
  // Four requests on one connection; the answers: an interim 100, then a sized body; a HEAD
  // answer (a length but no body); a 204; a chunked body with an extension and a trailer.
  const answers = [
    "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 201 Created\r\nContent-Length: 5\r\n\r\nhello",
    "HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n",
    "HTTP/1.1 204 No Content\r\n\r\n",
    "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
    "4;x=y\r\nwiki\r\n0a\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
  ];
  const stream = answers.join("");
  // Where each answer ends in the stream: after a chunk, every answer that ended in it or
  // before it is done, and the others are pending.
  const ends = [73, 114, 141, 236];
  assert.equal(stream.length, 236);
  for (const size of [1, 2, 3, 7, 64, stream.length]) {
    const scanner = new ResponseScanner();
    for (const method of ["PUT", "HEAD", "DELETE", "GET"]) scanner.expect(method);
    for (let i = 0; i < stream.length; i += size) {
      scanner.push(bytes(stream.slice(i, i + size)));
      const passed = Math.min(i + size, stream.length);
      const open = ends.filter((end) => end > passed).length;
      assert.equal(scanner.pending, open, `chunks of ${size}, after byte ${passed}`);
    }
    assert.equal(scanner.lost, false, `${size}`);
  }
});

Deno.test("ResponseScanner gives up where it cannot follow, rather than guess", () => {
  const cases: [string, string][] = [
    ["GET", "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nuntil the end"],
    ["GET", "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n"],
    ["GET", "SSH-2.0-OpenSSH\r\n\r\n"],
    ["GET", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"],
  ];
  for (const [method, answer] of cases) {
    const scanner = new ResponseScanner();
    scanner.expect(method);
    scanner.push(bytes(answer));
    assert.equal(scanner.lost, true, answer);
  }
  const unasked = new ResponseScanner();
  unasked.push(bytes("HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"));
  assert.equal(unasked.lost, true, "an answer nobody asked for");
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
