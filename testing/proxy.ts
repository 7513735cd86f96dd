/**
 * A TCP proxy for the local stack that adds latency and injects connection-level faults, and
 * can answer `Expect: 100-continue` for a server that never does (workerd). It forwards bytes
 * untouched (the `Host` header included), so pre-signed URLs made for the proxy's address
 * verify at the S3 behind it.
 *
 * @module
 */

import { declaredLength, RequestScanner, ResponseScanner } from "./http_scan.ts";
import { seededRandom } from "./seeded_random.ts";
import { assertPortFree } from "./ports.ts";
import { Link, type LinkShape } from "./link.ts";

/** A connection-level fault for the next connections. */
export type ProxyFault =
  /** Answer with this HTTP status and close, without reaching the target. */
  | { kind: "respond"; status: number; code?: string }
  /** Forward, then cut both sides once this many request bytes have passed. */
  | { kind: "reset"; afterBytes: number }
  /** Accept, read, and never answer (until the proxy closes). */
  | { kind: "stall" };

/** Options of {@link startProxy}. */
export interface ProxyOptions {
  /** Where connections go. */
  target: { hostname: string; port: number };
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** `0` picks a free port. @default {0} */
  port?: number;
  /** Round-trip time added: each chunk waits half of it, in each direction. @default {0} */
  latencyMs?: number;
  /** Keep the head of every request that passes, in {@link TcpProxy.heads}. @default {false} */
  recordHeads?: boolean;
  /**
   * Answer `Expect: 100-continue` with `HTTP/1.1 100 Continue` as soon as the request's head
   * has passed, for a target that never sends one (workerd): clients such as curl would
   * otherwise wait a second before they send the body. The head still goes on untouched. It
   * is answered only when every earlier response on the connection has passed in full, so an
   * interim answer never lands inside another response; where the proxy cannot follow the
   * connection's requests or responses (a chunked request body, an answer without a length),
   * it stops answering on that connection and the client's own timeout applies.
   * @default {false}
   */
  answerContinue?: boolean;
  /** A bandwidth limit and a set-up cost per new connection (`link.ts`). @default {none} */
  link?: LinkShape;
}

/**
 * Faults that strike single requests, even on kept-alive connections: each request is hit
 * with probability `rate` (from a generator seeded with `seed`, so a run repeats exactly), by
 * one of `faults` in turn. A `reset` counts its bytes from the end of the request's head.
 */
export interface RequestFaults {
  /** The share of requests hit, 0–1. */
  rate: number;
  /** @default {1} */
  seed?: number;
  /** The faults used, in turn. */
  faults: ProxyFault[];
}

/** A running proxy. */
export interface TcpProxy {
  /** `http://host:port` of the proxy. */
  url: string;
  /** The proxy's port. */
  port: number;
  /** Changes the added round-trip time for new chunks. */
  latencyMs: number;
  /**
   * Queues a fault for each of the next `count` connections, and cuts the open ones so that
   * clients' pooled connections do not slip past it.
   */
  inject(fault: ProxyFault, count?: number): void;
  /**
   * Strikes single requests at a rate from now on (`undefined` stops it). Open connections
   * are left alone.
   */
  strikeRequests(faults: RequestFaults | undefined): void;
  /** Request heads seen so far (with `recordHeads`; the latest 10,000), as sent. */
  readonly heads: string[];
  /**
   * So far: connections accepted, connection faults applied, requests seen, requests seen
   * while {@link TcpProxy.strikeRequests} was on (those it could strike), requests struck, and
   * `100 Continue` answers sent (with `answerContinue`).
   */
  readonly stats: {
    connections: number;
    faults: number;
    requests: number;
    eligible: number;
    struck: number;
    continued: number;
  };
  /** Client connections open right now. */
  readonly openConnections: number;
  /** Stops listening and cuts every open connection. */
  close(): Promise<void>;
}

/**
 * Starts a TCP proxy in front of `target`.
 *
 * @param options Target, address and latency.
 * @returns The running proxy.
 *
 * @example
 * ```ts ignore
 * import { startProxy } from "./proxy.ts";
 * const proxy = startProxy({ target: { hostname: "127.0.0.1", port: 4568 }, latencyMs: 80 });
 * proxy.inject({ kind: "respond", status: 503, code: "SlowDown" });
 * await proxy.close();
 * ```
 */
export function startProxy(options: ProxyOptions): TcpProxy {
  const { target, hostname = "127.0.0.1", port = 0 } = options;
  assertPortFree(hostname, port, "proxy", "PROXY_PORT");
  const link = options.link && new Link(options.link, () => proxy.latencyMs);
  const listener = Deno.listen({ hostname, port });
  const open = new Set<Deno.Conn>();
  const clients = new Set<Deno.Conn>();
  const faults: ProxyFault[] = [];
  const stats = { connections: 0, faults: 0, requests: 0, eligible: 0, struck: 0, continued: 0 };
  const heads: string[] = [];
  let striking: { rule: RequestFaults; next: () => number; turn: number } | undefined;
  const onHead = (head: string): ProxyFault | undefined => {
    stats.requests++;
    if (options.recordHeads) {
      heads.push(head);
      if (heads.length > 10_000) heads.shift();
    }
    if (!striking || striking.rule.faults.length === 0) return undefined;
    stats.eligible++;
    if (striking.next() >= striking.rule.rate) return undefined;
    stats.struck++;
    return striking.rule.faults[striking.turn++ % striking.rule.faults.length];
  };
  const proxy: TcpProxy = {
    url: `http://${hostname}:${(listener.addr as Deno.NetAddr).port}`,
    port: (listener.addr as Deno.NetAddr).port,
    latencyMs: options.latencyMs ?? 0,
    inject(fault, count = 1) {
      for (let i = 0; i < count; i++) faults.push(fault);
      // Pooled keep-alive connections would never see the fault: cut them, so that the next
      // requests open new connections.
      for (const conn of open) closeQuietly(conn);
    },
    strikeRequests(rule) {
      striking = rule ? { rule, next: seededRandom(rule.seed ?? 1), turn: 0 } : undefined;
    },
    heads,
    stats,
    get openConnections() {
      return clients.size;
    },
    async close() {
      listener.close();
      for (const conn of open) closeQuietly(conn);
      await accepting;
    },
  };

  const accepting = (async () => {
    for await (const client of listenerConnections(listener)) {
      stats.connections++;
      open.add(client);
      clients.add(client);
      const fault = faults.shift();
      if (fault) stats.faults++;
      handle(client, fault).finally(() => {
        open.delete(client);
        clients.delete(client);
      });
    }
  })();

  async function handle(client: Deno.Conn, fault: ProxyFault | undefined): Promise<void> {
    if (fault?.kind === "respond") {
      const { head, extra } = await readRequestHead(client);
      await drainBody(client, head, extra);
      await respond(client, fault);
      return;
    }
    if (fault?.kind === "stall") {
      await swallow(client);
      return;
    }
    let upstream: Deno.Conn;
    try {
      upstream = await Deno.connect(target);
    } catch {
      closeQuietly(client);
      return;
    }
    // Forward each chunk the moment its delay is over: Nagle's algorithm would hold a small
    // chunk back until the previous one is acknowledged, adding delays no network has.
    (client as Deno.TcpConn).setNoDelay(true);
    (upstream as Deno.TcpConn).setNoDelay(true);
    if (link) ({ client, upstream } = link.connection(client, upstream));
    open.add(upstream);
    const cut = () => {
      closeQuietly(client);
      closeQuietly(upstream);
    };
    const limit = fault?.kind === "reset" ? fault.afterBytes : Infinity;
    const delay = () => proxy.latencyMs / 2;
    const toClient = new Outbound(client);
    const toUpstream = new Outbound(upstream);
    const responses = options.answerContinue ? new ResponseScanner() : undefined;
    const onRequest = (head: string): ProxyFault | undefined => {
      const struck = onHead(head);
      if (struck || !responses) return struck;
      // Answered here, before the head goes on: the target cannot have begun its answer.
      if (responses.pending === 0 && !responses.lost && asksToContinue(head)) {
        stats.continued++;
        toClient.send(CONTINUE, delay());
      }
      responses.expect(head.slice(0, head.indexOf(" ")));
      return undefined;
    };
    // In front of an HTTP server (workerd), the relay closes as an HTTP server does. A server
    // that answers early (411, 413, 415) and hangs up while the client is still sending would
    // otherwise see the relay reset the client's connection, and a client that is still
    // writing (curl) gives up on a failed write before it reads the answer it already has.
    // So once the server is gone, the relay passes on what it sent, ends its side of the
    // client's connection, and keeps reading (and dropping) what the client still sends until
    // the client closes, for up to LINGER_MS.
    const linger = options.answerContinue
      ? () => swallow(client, LINGER_MS).finally(cut)
      : undefined;
    const endAnswers = options.answerContinue
      ? async () => {
        await toClient.drained().catch(() => {});
        await client.closeWrite().catch(() => {});
      }
      : undefined;
    await Promise.allSettled([
      pump(client, toUpstream, delay, limit, cut, onRequest, undefined, linger),
      pump(upstream, toClient, delay, Infinity, cut, undefined, responses, endAnswers),
    ]);
    cut();
    open.delete(upstream);
  }

  return proxy;
}

async function* listenerConnections(listener: Deno.Listener): AsyncGenerator<Deno.Conn> {
  while (true) {
    try {
      yield await listener.accept();
    } catch {
      return;
    }
  }
}

/** One direction of a connection: chunks written in order, each once its delay is over. */
class Outbound {
  #chain: Promise<void> = Promise.resolve();

  constructor(readonly conn: Deno.Conn) {}

  /** Queues bytes; the promise settles once they (and all before them) are written. */
  send(bytes: Uint8Array, delayMs: number): Promise<void> {
    const due = performance.now() + delayMs;
    this.#chain = this.#chain.then(async () => {
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      await writeAll(this.conn, bytes);
    });
    // A failed write is the caller's to see where it waits; unawaited, it is no crash.
    this.#chain.catch(() => {});
    return this.#chain;
  }

  /** Settles once everything queued so far is written. */
  drained(): Promise<void> {
    return this.#chain;
  }
}

const CONTINUE = new TextEncoder().encode("HTTP/1.1 100 Continue\r\n\r\n");

/** Bytes read at a time, per direction. */
const CHUNK_BYTES = 256 * 1024;

/** Whether a request head is HTTP/1.1 (or later) and carries `Expect: 100-continue`. */
function asksToContinue(head: string): boolean {
  return /^\S+ \S+ HTTP\/1\.[1-9]\r\n/.test(head) &&
    /^expect:[ \t]*100-continue[ \t]*$/im.test(head);
}

async function pump(
  from: Deno.Conn,
  to: Outbound,
  delayMs: () => number,
  limit: number,
  cut: () => void,
  onHead?: (head: string) => ProxyFault | undefined,
  responses?: ResponseScanner,
  onBroken: () => unknown = cut,
): Promise<void> {
  let passed = 0;
  // Two buffers: one is read into while the other's bytes are being written.
  const buffers = [new Uint8Array(CHUNK_BYTES), new Uint8Array(CHUNK_BYTES)];
  let previous: Promise<void> = Promise.resolve();
  const scanner = onHead ? new RequestScanner() : undefined;
  try {
    for (let turn = 0;; turn ^= 1) {
      const buffer = buffers[turn];
      const n = await from.read(buffer);
      if (n === null) break;
      // With latency, chunks wait in the queue: each needs bytes of its own.
      let chunk = delayMs() === 0 ? buffer.subarray(0, n) : buffer.slice(0, n);
      for (const head of scanner?.push(chunk) ?? []) {
        const fault = onHead!(head.text);
        if (fault?.kind === "respond") {
          await to.drained();
          await drainBody(from, head.text, n - head.end);
          await respond(from, fault);
          cut();
          return;
        }
        if (fault?.kind === "stall") {
          await to.drained();
          await swallow(from);
          cut();
          return;
        }
        if (fault?.kind === "reset") limit = Math.min(limit, passed + head.end + fault.afterBytes);
      }
      if (passed + n > limit) chunk = chunk.subarray(0, Math.max(0, limit - passed));
      passed += chunk.length;
      // Scanned as it is queued, so that what the scanner counts as passed goes out before
      // anything queued after it.
      responses?.push(chunk);
      // Without latency, at most one write is in flight behind the reader (and the buffer
      // read into next is free again); with latency, the latency's worth waits in memory.
      if (delayMs() === 0) await previous;
      previous = to.send(chunk, delayMs());
      if (passed >= limit) {
        await to.drained();
        cut();
        return;
      }
    }
    await to.drained();
    await to.conn.closeWrite().catch(() => {});
  } catch {
    await onBroken();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Answers with an S3-style XML error and closes the connection. */
async function respond(
  client: Deno.Conn,
  fault: { status: number; code?: string },
): Promise<void> {
  const requestId = crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${
    fault.code ?? "InternalError"
  }</Code><Message>Injected by the local proxy</Message><RequestId>${requestId}</RequestId></Error>`;
  const head = `HTTP/1.1 ${fault.status} Injected\r\ncontent-type: application/xml\r\n` +
    `x-amz-request-id: ${requestId}\r\n` +
    `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
  await writeAll(client, new TextEncoder().encode(head + body)).catch(() => {});
  closeQuietly(client);
}

/** Reads and drops what a client sends, never answering, until it hangs up (or `ms` pass). */
async function swallow(client: Deno.Conn, ms = Infinity): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeUp = new Promise<null>((resolve) => {
    if (ms !== Infinity) timer = setTimeout(() => resolve(null), ms);
  });
  try {
    while (await Promise.race([client.read(buffer), timeUp]) !== null) { /* swallow */ }
  } catch {
    /* closed */
  } finally {
    clearTimeout(timer);
  }
}

/** How long the relay keeps reading a client whose server has gone (see `answerContinue`). */
const LINGER_MS = 10_000;

async function readRequestHead(conn: Deno.Conn): Promise<{ head: string; extra: number }> {
  const buffer = new Uint8Array(16 * 1024);
  let seen = "";
  while (!seen.includes("\r\n\r\n")) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) break;
    seen += LATIN1.decode(buffer.subarray(0, n));
    if (seen.length > 64 * 1024) break;
  }
  const end = seen.indexOf("\r\n\r\n");
  return end < 0
    ? { head: seen, extra: 0 }
    : { head: seen.slice(0, end + 4), extra: seen.length - end - 4 };
}

/**
 * Reads and drops the rest of a request body (`Content-Length` minus what was already read),
 * so that the client has sent it all before the injected answer comes: otherwise a client
 * still sending may lose the answer when the connection closes. Gives up after 10 s.
 */
async function drainBody(conn: Deno.Conn, head: string, alreadyRead: number): Promise<void> {
  const length = declaredLength(head) ?? 0;
  let left = length - alreadyRead;
  const buffer = new Uint8Array(64 * 1024);
  const deadline = Date.now() + 10_000;
  while (left > 0 && Date.now() < deadline) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return;
    left -= n;
  }
}

const LATIN1 = new TextDecoder("latin1");

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
