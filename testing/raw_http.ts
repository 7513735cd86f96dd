/**
 * HTTP/1.1 written by hand over a plain TCP connection, for what `fetch` cannot do: a
 * generated stream sent with its `Content-Length` (Deno's `fetch` would send it chunked), a
 * declared length the body does not match, a body written bit by bit while the answer is
 * awaited, a client that hangs up halfway. One answer reader (framed by `Content-Length`,
 * chunked encoding or the end of the connection) serves them all.
 *
 * @module
 */

/** An answer read off a raw connection. */
export interface RawResponse {
  status: number;
  headers: Headers;
  /** The body as text (chunked encoding undone). */
  text: string;
}

/** A request in flight whose body the caller writes, while its answer is read. */
export interface RawExchange {
  /** Writes body bytes. */
  write(bytes: Uint8Array): Promise<void>;
  /**
   * The answer: complete at its framing, even while the server keeps the connection open
   * (as it may while the request body is unfinished); rejects when the connection closes
   * without one.
   */
  answer: Promise<RawResponse>;
  /** Closes the connection: a client that goes away. */
  close(): void;
}

/**
 * Opens a connection, sends a request head and starts reading the answer; the body is the
 * caller's to write (or never to write).
 *
 * @param url The full URL (`http:` only); its path and query are sent as they are.
 * @param headers Sent exactly as given; `Host` and `Connection: close` are added where absent.
 * @param method @default {"PUT"}
 * @returns The exchange.
 *
 * @example
 * ```ts ignore
 * import { openRaw } from "./raw_http.ts";
 * const exchange = await openRaw(`${worker.url}/attachments/a.pdf`, { "Content-Length": "10" });
 * await exchange.write(new Uint8Array(5)); // and stall there
 * console.log((await exchange.answer).status);
 * ```
 */
export async function openRaw(
  url: string,
  headers: Record<string, string>,
  method = "PUT",
): Promise<RawExchange> {
  const target = new URL(url);
  if (target.protocol !== "http:") throw new TypeError("raw HTTP speaks plain http only");
  const conn = await Deno.connect({ hostname: target.hostname, port: Number(target.port || 80) });
  conn.setNoDelay(true);
  const given = new Set(Object.keys(headers).map((name) => name.toLowerCase()));
  const head = [`${method} ${target.pathname}${target.search} HTTP/1.1`];
  if (!given.has("host")) head.push(`Host: ${target.host}`);
  if (!given.has("connection")) head.push("Connection: close");
  for (const [name, value] of Object.entries(headers)) head.push(`${name}: ${value}`);
  const write = async (bytes: Uint8Array) => {
    for (let at = 0; at < bytes.length;) at += await conn.write(bytes.subarray(at));
  };
  await write(new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
  const answer = readAnswer(conn);
  answer.catch(() => {}); // a caller that hangs up never reads it
  let closed = false;
  return {
    write,
    answer,
    close() {
      if (closed) return;
      closed = true;
      try {
        conn.close();
      } catch { /* already closed */ }
    },
  };
}

/** What {@link rawHttp} sends. */
export interface RawHttpRequest {
  /** The full URL (`http:` only). */
  url: string;
  /** @default {"PUT"} */
  method?: string;
  /** Headers, sent exactly as given (`Host` and `Connection: close` added where absent). */
  headers?: Record<string, string>;
  /** Body bytes, written as they come: no chunked encoding, no length of its own. */
  body?: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /**
   * The body's length: sent as `Content-Length`, and a body that ends short of it fails the
   * request (the answer could never come) rather than wait.
   */
  length?: number;
  /**
   * Close the connection once this many body bytes were written, without reading an answer:
   * a client that goes away halfway.
   */
  hangUpAfterBytes?: number;
}

/**
 * Sends one request over its own connection and reads the answer. The body is written while
 * the answer is awaited: a server that answers early and stops reading (a refusal) still has
 * its answer returned.
 *
 * @param request What to send.
 * @returns The answer, or `undefined` when `hangUpAfterBytes` cut the request.
 * @throws {Error} When the connection closes without an answer, or the body ends short of
 * `length`.
 *
 * @example A client that declares 1 MB and hangs up after half of it
 * ```ts ignore
 * await rawHttp({
 *   url: `${worker.url}/attachments/a.pdf`,
 *   headers: { "X-Amz-Bearer": token, "Content-Length": "1048576" },
 *   body: randomBytes(1048576),
 *   hangUpAfterBytes: 524288,
 * });
 * ```
 */
export async function rawHttp(request: RawHttpRequest): Promise<RawResponse | undefined> {
  const headers = { ...request.headers };
  if (request.length !== undefined) {
    for (const name of Object.keys(headers)) {
      if (name.toLowerCase() === "content-length") delete headers[name];
    }
    headers["Content-Length"] = String(request.length);
  }
  const exchange = await openRaw(request.url, headers, request.method);
  try {
    const limit = request.hangUpAfterBytes ?? Infinity;
    let written = 0;
    const writing = (async () => {
      const body = request.body instanceof Uint8Array ? [request.body] : request.body ?? [];
      for await (const chunk of body as AsyncIterable<Uint8Array>) {
        const part = written + chunk.length > limit ? chunk.subarray(0, limit - written) : chunk;
        await exchange.write(part);
        written += part.length;
        if (written >= limit) return;
      }
    })();
    if (request.hangUpAfterBytes !== undefined) {
      await writing;
      return undefined;
    }
    // A server that answers before reading the whole body may close its side: the answer it
    // sent is what counts, so a failed write is not the end.
    const wrote = writing.then(() => true, () => false);
    const first = await Promise.race([exchange.answer, wrote]);
    if (typeof first !== "boolean") return first;
    if (first && request.length !== undefined && written < request.length) {
      // The body ended before its declared length: give up, as a client whose file shrank.
      throw new Error(`the body ended after ${written} of ${request.length} bytes`);
    }
    return await exchange.answer;
  } finally {
    exchange.close();
  }
}

/**
 * `PUT` (or another method) of a generated body under an explicit `Content-Length`, on its
 * own connection, the answer read whole: the benchmark's client, which never holds a body.
 *
 * @param url An `http:` URL.
 * @param init Method, headers, the body and its exact size.
 * @returns The answer.
 *
 * @example
 * ```ts ignore
 * import { rawPut } from "./raw_http.ts";
 * const answer = await rawPut(url, { headers: {}, size: 1024, body: chunks });
 * ```
 */
export async function rawPut(
  url: string,
  init: {
    method?: string;
    headers: Record<string, string>;
    size: number;
    body: Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  },
): Promise<RawResponse> {
  const answer = await rawHttp({ url, ...init, length: init.size });
  return answer!; // no hang-up asked for: an answer or a throw
}

/**
 * Reads one answer: the head (interim `1xx` answers skipped), then a body framed by
 * `Content-Length`, by chunked encoding, or by the end of the connection. A connection reset
 * after bytes came ends the reading with what came.
 */
async function readAnswer(conn: Deno.Conn): Promise<RawResponse> {
  let data = new Uint8Array(0);
  const buffer = new Uint8Array(64 * 1024);
  const more = async (): Promise<boolean> => {
    let n: number | null = null;
    try {
      n = await conn.read(buffer);
    } catch (error) {
      if (data.length === 0) throw error;
    }
    if (n === null) return false;
    const next = new Uint8Array(data.length + n);
    next.set(data);
    next.set(buffer.subarray(0, n), data.length);
    data = next;
    return true;
  };
  for (;;) {
    let headEnd;
    while ((headEnd = indexOfBlankLine(data)) < 0) {
      if (!(await more())) throw new Error("the connection closed without an answer");
    }
    const [statusLine, ...fields] = LATIN1.decode(data.subarray(0, headEnd)).split("\r\n");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1]);
    if (!status) throw new Error(`not an HTTP answer: ${statusLine.slice(0, 80)}`);
    const body = () => data.subarray(headEnd + 4);
    if (status >= 100 && status < 200 && status !== 101) {
      data = body().slice(); // an interim answer: the real one follows
      continue;
    }
    const headers = new Headers();
    for (const field of fields) {
      const colon = field.indexOf(":");
      if (colon > 0) headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
    }
    const length = headers.get("content-length");
    const chunked = /chunked/i.test(headers.get("transfer-encoding") ?? "");
    let bytes: Uint8Array;
    if ([204, 304].includes(status)) {
      bytes = new Uint8Array(0);
    } else if (chunked) {
      let decoded;
      while ((decoded = dechunk(body())) === undefined && await more());
      bytes = decoded ?? dechunk(body(), true)!;
    } else if (length !== null && /^\d+$/.test(length)) {
      while (body().length < Number(length) && await more());
      bytes = body().subarray(0, Number(length));
    } else {
      while (await more());
      bytes = body();
    }
    return { status, headers, text: new TextDecoder().decode(bytes) };
  }
}

const LATIN1 = new TextDecoder("latin1");

function indexOfBlankLine(bytes: Uint8Array, from = 0): number {
  for (let i = from; i + 3 < bytes.length; i++) {
    if (bytes[i] === 13 && bytes[i + 1] === 10 && bytes[i + 2] === 13 && bytes[i + 3] === 10) {
      return i;
    }
  }
  return -1;
}

/**
 * Undoes chunked encoding: the data of every chunk, once the last (empty) chunk has come; or,
 * with `partial`, of every chunk that came whole (a body cut short).
 */
function dechunk(body: Uint8Array, partial = false): Uint8Array | undefined {
  const parts: Uint8Array[] = [];
  let at = 0;
  for (;;) {
    let lineEnd = at;
    while (lineEnd + 1 < body.length && !(body[lineEnd] === 13 && body[lineEnd + 1] === 10)) {
      lineEnd++;
    }
    const size = lineEnd + 1 < body.length
      ? parseInt(LATIN1.decode(body.subarray(at, lineEnd)), 16)
      : NaN;
    if (size === 0) break;
    if (Number.isNaN(size) || lineEnd + 2 + size > body.length) {
      if (partial) break;
      return undefined;
    }
    parts.push(body.subarray(lineEnd + 2, lineEnd + 2 + size));
    at = lineEnd + 2 + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
