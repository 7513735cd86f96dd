/**
 * The benchmark's HTTP client: one `PUT` over a fresh TCP connection, written by hand in
 * HTTP/1.1 so that a generated stream goes out with its `Content-Length` (Deno's `fetch`
 * would send it chunked, which S3 and the worker refuse) and nothing is buffered.
 *
 * @module
 */

/** What {@link rawPut} sends. */
export interface RawPutInit {
  /** The method. @default {"PUT"} */
  method?: string;
  /** Request headers; `Host`, `Content-Length` and `Connection` are added. */
  headers: Record<string, string>;
  /** The exact number of bytes `body` yields. */
  size: number;
  /** The body, pulled chunk by chunk as the socket takes it. */
  body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
}

/** The answer to a {@link rawPut}. */
export interface RawResponse {
  status: number;
  /** Header names in lower case. */
  headers: Headers;
  /** The body as text. */
  text: string;
  /** Milliseconds from the connect call to the last byte of the answer. */
  elapsedMs: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * Sends `PUT url` with the body streamed under an explicit `Content-Length`, on its own
 * connection (`Connection: close`), and reads the whole answer. When the server answers
 * early and stops reading (a refusal), the answer is still returned.
 *
 * @param url An `http:` URL; its path and query are sent as they are.
 * @param init Headers, size and body.
 * @returns The answer and how long the exchange took.
 *
 * @example
 * ```ts ignore
 * import { rawPut } from "./http.ts";
 * import { bodyChunks } from "./body.ts";
 * const res = await rawPut(url, { headers: {}, size: 1024, body: bodyChunks(1024, 1) });
 * ```
 */
export async function rawPut(url: string, init: RawPutInit): Promise<RawResponse> {
  const target = new URL(url);
  if (target.protocol !== "http:") throw new TypeError("rawPut speaks plain http only");
  const started = performance.now();
  const conn = await Deno.connect({
    hostname: target.hostname,
    port: Number(target.port || 80),
  });
  conn.setNoDelay(true);
  try {
    let head = `${init.method ?? "PUT"} ${target.pathname}${target.search} HTTP/1.1\r\n` +
      `Host: ${target.host}\r\n`;
    for (const [name, value] of Object.entries(init.headers)) {
      const lower = name.toLowerCase();
      if (lower === "host" || lower === "content-length" || lower === "connection") continue;
      head += `${name}: ${value}\r\n`;
    }
    head += `Content-Length: ${init.size}\r\nConnection: close\r\n\r\n`;
    const answer = readAnswer(conn);
    // A server that answers before reading the whole body may close its side; the answer
    // it sent is what counts, so write errors are not fatal.
    let written = 0;
    const writing = (async () => {
      await writeAll(conn, encoder.encode(head));
      for await (const chunk of init.body) {
        await writeAll(conn, chunk);
        written += chunk.length;
      }
    })().catch(() => {});
    const raw = await Promise.race([answer, writing.then(() => undefined)]) ??
      (written === init.size ? await answer : undefined);
    if (raw === undefined) {
      // The body ended before its declared length: the client gives up, as a client whose
      // file shrank would, and the connection is cut.
      throw new Error(`the body ended after ${written} of ${init.size} bytes`);
    }
    await writing;
    const response = parseResponse(raw);
    return { ...response, elapsedMs: performance.now() - started };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * Reads one HTTP/1.1 answer: the head, then a body framed by Content-Length, by chunked
 * encoding, or by the end of the connection. Servers may keep the connection open after
 * the answer in spite of `Connection: close`, so the framing decides where it ends.
 */
async function readAnswer(conn: Deno.Conn): Promise<Uint8Array> {
  let data = new Uint8Array(0);
  const buffer = new Uint8Array(16 * 1024);
  const more = async (): Promise<boolean> => {
    let n: number | null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      if (data.length > 0) return false;
      throw error;
    }
    if (n === null) return false;
    const next = new Uint8Array(data.length + n);
    next.set(data);
    next.set(buffer.subarray(0, n), data.length);
    data = next;
    return true;
  };
  let headEnd = -1;
  while ((headEnd = indexOfBlankLine(data)) < 0) {
    if (!(await more())) return data;
  }
  const head = decoder.decode(data.subarray(0, headEnd)).toLowerCase();
  const length = /\r\ncontent-length:\s*(\d+)/.exec(head);
  const bodyStart = headEnd + 4;
  if (/^http\/1\.[01] (1\d\d|204|304)/.test(head)) return data.subarray(0, bodyStart);
  if (length) {
    while (data.length < bodyStart + Number(length[1])) if (!(await more())) break;
    return data.subarray(0, bodyStart + Number(length[1]));
  }
  if (/\r\ntransfer-encoding:[^\r]*chunked/.test(head)) {
    while (!chunkedComplete(data.subarray(bodyStart))) if (!(await more())) break;
    return data;
  }
  while (await more()) { /* to the end of the connection */ }
  return data;
}

/** Whether a chunked body has arrived up to its last (empty) chunk. */
function chunkedComplete(body: Uint8Array): boolean {
  let at = 0;
  while (true) {
    let lineEnd = at;
    while (lineEnd + 1 < body.length && !(body[lineEnd] === 13 && body[lineEnd + 1] === 10)) {
      lineEnd++;
    }
    if (lineEnd + 1 >= body.length) return false;
    const size = parseInt(decoder.decode(body.subarray(at, lineEnd)), 16);
    if (Number.isNaN(size)) return false;
    if (size === 0) return indexOfBlankLine(body, lineEnd) >= 0;
    at = lineEnd + 2 + size + 2;
    if (at > body.length) return false;
  }
}

function parseResponse(raw: Uint8Array): Omit<RawResponse, "elapsedMs"> {
  const end = indexOfBlankLine(raw);
  if (end < 0) throw new Error("the server closed the connection without a complete answer");
  const [statusLine, ...lines] = decoder.decode(raw.subarray(0, end)).split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
  if (!status) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 80)}`);
  const headers = new Headers();
  for (const line of lines) {
    const colon = line.indexOf(":");
    if (colon > 0) headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
  }
  let body = raw.subarray(end + 4);
  if (headers.get("transfer-encoding")?.toLowerCase().includes("chunked")) body = unchunk(body);
  return { status, headers, text: decoder.decode(body) };
}

function indexOfBlankLine(bytes: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

function unchunk(body: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let at = 0;
  while (at < body.length) {
    let lineEnd = at;
    while (lineEnd + 1 < body.length && !(body[lineEnd] === 13 && body[lineEnd + 1] === 10)) {
      lineEnd++;
    }
    const size = parseInt(decoder.decode(body.subarray(at, lineEnd)), 16);
    if (!size) break;
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
