/**
 * A TCP proxy for the local stack that adds latency and injects connection-level faults.
 * It forwards bytes untouched (the `Host` header included), so pre-signed URLs made for the
 * proxy's address verify at the S3 behind it.
 *
 * @module
 */

import { RequestScanner } from "./http_scan.ts";
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
   * while {@link TcpProxy.strikeRequests} was on (those it could strike), and requests struck.
   */
  readonly stats: {
    connections: number;
    faults: number;
    requests: number;
    eligible: number;
    struck: number;
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
  const stats = { connections: 0, faults: 0, requests: 0, eligible: 0, struck: 0 };
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
    await Promise.allSettled([
      pump(client, upstream, () => proxy.latencyMs / 2, limit, cut, onHead),
      pump(upstream, client, () => proxy.latencyMs / 2, Infinity, cut),
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

async function pump(
  from: Deno.Conn,
  to: Deno.Conn,
  delayMs: () => number,
  limit: number,
  cut: () => void,
  onHead?: (head: string) => ProxyFault | undefined,
): Promise<void> {
  let passed = 0;
  let chain = Promise.resolve();
  const buffer = new Uint8Array(64 * 1024);
  const scanner = onHead ? new RequestScanner() : undefined;
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let chunk = buffer.slice(0, n);
      for (const head of scanner?.push(chunk) ?? []) {
        const fault = onHead!(head.text);
        if (fault?.kind === "respond") {
          await chain;
          await drainBody(from, head.text, n - head.end);
          await respond(from, fault);
          cut();
          return;
        }
        if (fault?.kind === "stall") {
          await chain;
          await swallow(from);
          cut();
          return;
        }
        if (fault?.kind === "reset") limit = Math.min(limit, passed + head.end + fault.afterBytes);
      }
      if (passed + n > limit) chunk = chunk.subarray(0, Math.max(0, limit - passed));
      passed += chunk.length;
      const due = performance.now() + delayMs();
      chain = chain.then(async () => {
        const wait = due - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        await writeAll(to, chunk);
      });
      if (passed >= limit) {
        await chain;
        cut();
        return;
      }
      // Bound what waits in memory: at most one in-flight write behind the reader when no
      // latency is added, and the latency's worth otherwise.
      if (delayMs() === 0) await chain;
    }
    await chain;
    await to.closeWrite().catch(() => {});
  } catch {
    cut();
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

/** Reads and drops what a client sends, never answering, until it hangs up. */
async function swallow(client: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (await client.read(buffer) !== null) { /* swallow */ }
  } catch { /* closed */ }
}

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
  const length = Number(/^content-length:[ \t]*(\d+)[ \t]*$/im.exec(head)?.[1] ?? 0);
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
