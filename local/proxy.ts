/**
 * A TCP proxy for the local stack that adds latency and injects connection-level faults.
 * It forwards bytes untouched (the `Host` header included), so pre-signed URLs made for the
 * proxy's address verify at the S3 behind it.
 *
 * @module
 */

import { assertPortFree } from "./ports.ts";

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
  /** Connections accepted, and faults applied, so far. */
  readonly stats: { connections: number; faults: number };
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
  const listener = Deno.listen({ hostname, port });
  const open = new Set<Deno.Conn>();
  const faults: ProxyFault[] = [];
  const stats = { connections: 0, faults: 0 };
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
    stats,
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
      const fault = faults.shift();
      if (fault) stats.faults++;
      handle(client, fault).finally(() => open.delete(client));
    }
  })();

  async function handle(client: Deno.Conn, fault: ProxyFault | undefined): Promise<void> {
    if (fault?.kind === "respond") {
      await readRequestHead(client);
      const requestId = crypto.randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase();
      const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${
        fault.code ?? "InternalError"
      }</Code><Message>Injected by the local proxy</Message><RequestId>${requestId}</RequestId></Error>`;
      const head = `HTTP/1.1 ${fault.status} Injected\r\ncontent-type: application/xml\r\n` +
        `x-amz-request-id: ${requestId}\r\n` +
        `content-length: ${body.length}\r\nconnection: close\r\n\r\n`;
      await client.write(new TextEncoder().encode(head + body)).catch(() => {});
      closeQuietly(client);
      return;
    }
    if (fault?.kind === "stall") {
      for await (const _ of client.readable.values({ preventCancel: true })) { /* swallow */ }
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
    open.add(upstream);
    const cut = () => {
      closeQuietly(client);
      closeQuietly(upstream);
    };
    const limit = fault?.kind === "reset" ? fault.afterBytes : Infinity;
    await Promise.allSettled([
      pump(client, upstream, () => proxy.latencyMs / 2, limit, cut),
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
): Promise<void> {
  let passed = 0;
  let chain = Promise.resolve();
  const buffer = new Uint8Array(64 * 1024);
  try {
    while (true) {
      const n = await from.read(buffer);
      if (n === null) break;
      let chunk = buffer.slice(0, n);
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

async function readRequestHead(conn: Deno.Conn): Promise<void> {
  const buffer = new Uint8Array(16 * 1024);
  let seen = "";
  while (!seen.includes("\r\n\r\n")) {
    const n = await conn.read(buffer).catch(() => null);
    if (n === null) return;
    seen += new TextDecoder().decode(buffer.subarray(0, n));
    if (seen.length > 64 * 1024) return;
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}
