/**
 * Shared helpers for the test suite: test data and digests.
 *
 * @module
 */

/** `size` bytes of pseudo-random data, deterministic for a seed. */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** The hex SHA-256 of some bytes. */
export async function sha256(bytes: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  /** The status code, or 0 when the server closed without answering. */
  status: number;
  /** Header names in lower case; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The body as text (whatever arrived before the server closed). */
  body: string;
}

/**
 * Sends bytes as they are over a fresh TCP connection and reads the answer until the server
 * closes or `timeoutMs` passes: for requests `fetch` will not send (duplicated or malformed
 * `Content-Length`, raw control characters in the target, bodies shorter than declared).
 * Add `Connection: close` to the head so that the server closes after answering.
 *
 * @param url The server's base URL (`http://host:port`).
 * @param request The whole request: head, blank line and body.
 * @param timeoutMs How long to wait for the server to close.
 */
export async function rawHttp(
  url: string,
  request: string | Uint8Array,
  timeoutMs = 10_000,
): Promise<RawAnswer> {
  const { hostname, port } = new URL(url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  const timer = setTimeout(() => closeQuietly(conn), timeoutMs);
  const chunks: Uint8Array<ArrayBuffer>[] = [];
  try {
    const bytes = typeof request === "string" ? latin1(request) : request;
    let offset = 0;
    while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    const buffer = new Uint8Array(64 * 1024);
    while (true) {
      const n = await conn.read(buffer);
      if (n === null) break;
      chunks.push(buffer.slice(0, n));
    }
  } catch {
    /* reset or timed out: parse what came */
  } finally {
    clearTimeout(timer);
    closeQuietly(conn);
  }
  const text = new TextDecoder().decode(await new Blob(chunks).arrayBuffer());
  const split = text.indexOf("\r\n\r\n");
  if (!text.startsWith("HTTP/") || split < 0) return { status: 0, headers: {}, body: text };
  const [statusLine, ...lines] = text.slice(0, split).split("\r\n");
  const headers: Record<string, string> = {};
  for (const line of lines) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
  }
  let body = text.slice(split + 4);
  if (/chunked/i.test(headers["transfer-encoding"] ?? "")) body = unchunk(body);
  return { status: Number(statusLine.split(" ")[1]), headers, body };
}

function latin1(text: string): Uint8Array {
  return Uint8Array.from(text, (c) => c.charCodeAt(0) & 0xff);
}

function unchunk(body: string): string {
  let out = "";
  let rest = body;
  while (true) {
    const line = rest.indexOf("\r\n");
    if (line < 0) break;
    const size = parseInt(rest.slice(0, line), 16);
    if (!(size > 0)) break;
    out += rest.slice(line + 2, line + 2 + size);
    rest = rest.slice(line + 2 + size + 2);
  }
  return out;
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* closed */ }
}

/** What a running process holds, from `/proc` (Linux). */
export interface ProcessUsage {
  /** Resident memory, in bytes. */
  rssBytes: number;
  /** Open file descriptors, sockets included. */
  openFiles: number;
  /** Open sockets. */
  sockets: number;
}

/**
 * Reads a process's resident memory and open descriptors from `/proc`.
 *
 * @param pid The process id.
 */
export function processUsage(pid: number): ProcessUsage {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const rssKb = Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN);
  let openFiles = 0;
  let sockets = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    openFiles++;
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith("socket:")) sockets++;
    } catch { /* closed meanwhile */ }
  }
  return { rssBytes: rssKb * 1024, openFiles, sockets };
}

/**
 * Waits until `check` passes, trying every 50 ms for up to `timeoutMs`; throws its last
 * failure otherwise. For settling asynchronous effects (a cancelled upload, a closed socket),
 * never for timing assertions.
 *
 * @param check Throws (or returns false) while the condition does not hold.
 * @param timeoutMs How long to keep trying.
 */
export async function eventually(
  check: () => unknown | Promise<unknown>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (true) {
    let failure: unknown;
    try {
      if ((await check()) !== false) return;
      failure = new Error("the condition did not hold in time");
    } catch (error) {
      failure = error;
    }
    if (Date.now() > until) throw failure;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/**
 * The process ids under `pid` (children, grandchildren, ...), from `/proc` (Linux).
 *
 * @param pid The ancestor.
 * @returns Each descendant with its command name.
 */
export function descendants(pid: number): { pid: number; name: string }[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
      const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(entry.name)]);
    } catch { /* gone meanwhile */ }
  }
  const found: { pid: number; name: string }[] = [];
  const walk = (parent: number) => {
    for (const child of children.get(parent) ?? []) {
      try {
        found.push({ pid: child, name: Deno.readTextFileSync(`/proc/${child}/comm`).trim() });
      } catch { /* gone meanwhile */ }
      walk(child);
    }
  };
  walk(pid);
  return found;
}
