/**
 * Shared helpers for the test suite: test data and digests.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { openChat } from "../local/chat.ts";
import { headObject } from "../local/presign.ts";
import { startProxy, type TcpProxy } from "../local/proxy.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { type StartedWorker, startWorker, type WorkerRuntime } from "./_worker.ts";
import { workerFetch } from "./_worker_contract.ts";

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

/** One request and its answer, as seen on the wire by {@link recordingFetch}. */
export interface Exchange {
  method: string;
  /** The URL path, such as `/participant/transcript`. */
  path: string;
  /** The request's headers as sent. */
  requestHeaders: Headers;
  /** The request body as sent, where it had one. */
  requestBody?: string;
  /** The answer's status, or 0 where none came. */
  status: number;
  headers: Headers;
  /** The answer's body as text; `undefined` where it broke off. */
  body?: string;
}

/**
 * A `fetch` over real sockets that records every exchange it carries, body included.
 *
 * @param base The `fetch` to wrap.
 * @returns The wrapping `fetch` and the list it appends to.
 */
export function recordingFetch(
  base: typeof fetch = (input, init) => globalThis.fetch(input, init),
): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const requestBody = request.body ? await request.clone().text() : undefined;
    const exchange: Exchange = {
      method: request.method,
      path: new URL(request.url).pathname,
      requestHeaders: new Headers(request.headers),
      requestBody,
      status: 0,
      headers: new Headers(),
    };
    exchanges.push(exchange);
    const response = await base(request);
    exchange.status = response.status;
    exchange.headers = response.headers;
    const bytes = await response.arrayBuffer().catch(() => undefined);
    if (bytes === undefined) {
      // The body broke off: hand on an answer whose body fails the same way.
      const broken = new ReadableStream({
        start: (c) => c.error(new TypeError("error reading a body from connection")),
      });
      return new Response(broken, { status: response.status, headers: response.headers });
    }
    exchange.body = new TextDecoder().decode(bytes);
    const noBody = [204, 205, 304].includes(response.status);
    return new Response(noBody ? null : bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: recording, exchanges };
}

/** A fault rule for the local service's `POST /_local/faults`. */
export interface FaultSpec {
  operation: string;
  kind: "throttle" | "error" | "delay" | "drop";
  count?: number;
  delayMs?: number;
  when?: "before" | "after";
}

/**
 * Arms a fault on the local service through its HTTP API.
 *
 * @param participantUrl The local service's base URL.
 * @param rule The fault.
 */
export async function armFault(participantUrl: string, rule: FaultSpec): Promise<void> {
  const response = await fetch(`${participantUrl}/_local/faults`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(rule),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`arming ${JSON.stringify(rule)} failed: ${text}`);
}

/**
 * Disarms every fault and resets the call counts of the local service.
 *
 * @param participantUrl The local service's base URL.
 */
export async function clearFaults(participantUrl: string): Promise<void> {
  await (await fetch(`${participantUrl}/_local/faults`, { method: "DELETE" })).body?.cancel();
}

/**
 * How many calls each operation of the local service has received since the last
 * {@link clearFaults}.
 *
 * @param participantUrl The local service's base URL.
 */
export async function callCounts(participantUrl: string): Promise<Record<string, number>> {
  const response = await fetch(`${participantUrl}/_local/faults`);
  return (await response.json()).calls;
}

/**
 * Uploads bytes with the headers StartAttachmentUpload asked for.
 *
 * @param url The pre-signed URL.
 * @param headers `HeadersToInclude`.
 * @param body The bytes.
 * @returns S3's status and its error code, where it refused.
 */
export async function putUpload(
  url: string,
  headers: Record<string, string>,
  body: BodyInit,
): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, { method: "PUT", headers, body });
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] };
}

/** A small HTTP server on a free port, for answers the local service would never send. */
export interface TinyServer {
  /** Its base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** How many requests it has received. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 on a free port, over real sockets.
 *
 * @param handler Answers each request; it is told the request's number, from 1.
 */
export function serveTiny(
  handler: (request: Request, n: number) => Response | Promise<Response>,
): TinyServer {
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handler(request, ++requests),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

/** A 200 answer whose connection breaks after the headers. */
export function brokenAnswer(): Response {
  const body = new ReadableStream({ start: (c) => c.error(new Error("cut off")) });
  return new Response(body, { headers: { "content-type": "application/json" } });
}
/** What a finished subprocess left behind. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary output. */
  stdoutBytes: Uint8Array<ArrayBuffer>;
}

/**
 * Runs `deno` (the one running the tests) with arguments, as a user would in a shell: no
 * inherited `CONNECT_*` variables unless given, `NO_COLOR` set.
 */
export async function runDeno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  return await runCommand(Deno.execPath(), args, options);
}

/** Runs a program and collects its exit code and output; stdin is closed. */
export async function runCommand(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("CONNECT_") && key !== "AWS_REGION") env[key] = value;
  }
  const output = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    stdoutBytes: output.stdout,
  };
}

/** The repository's root folder. */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname;

/** A process's resident memory, from Linux `/proc/<pid>/status`. */
export interface ProcessMemory {
  /** Resident set size now (`VmRSS`), in bytes. */
  rss: number;
  /** The highest resident set size so far (`VmHWM`), in bytes. */
  peak: number;
}

/**
 * Reads a process's resident memory (Linux only).
 *
 * @param pid The process id.
 * @returns Current and peak resident set size.
 *
 * @example
 * ```ts ignore
 * const before = processMemory(worker.pid);
 * await upload();
 * const grewBy = processMemory(worker.pid).peak - before.rss;
 * ```
 */
export function processMemory(pid: number): ProcessMemory {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (field: string) => {
    const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
    if (!match) throw new Error(`no ${field} in /proc/${pid}/status`);
    return Number(match[1]) * 1024;
  };
  return { rss: kib("VmRSS"), peak: kib("VmHWM") };
}

/**
 * Lists every process below `pid` (children, their children, ...) with its command name
 * (Linux only).
 *
 * @param pid The ancestor.
 * @returns The descendants' ids and names.
 *
 * @example
 * ```ts ignore
 * const workerd = descendantProcesses(child.pid).filter((p) => p.name === "workerd");
 * ```
 */
export function descendantProcesses(pid: number): { pid: number; name: string }[] {
  const parents = new Map<number, number[]>();
  const names = new Map<number, string>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    let stat: string;
    try {
      stat = Deno.readTextFileSync(`/proc/${entry.name}/stat`);
    } catch {
      continue;
    }
    // pid (comm) state ppid ...; comm may hold spaces and parentheses.
    const close = stat.lastIndexOf(")");
    const child = Number(entry.name);
    const ppid = Number(stat.slice(close + 2).split(" ")[1]);
    names.set(child, stat.slice(stat.indexOf("(") + 1, close));
    parents.set(ppid, [...(parents.get(ppid) ?? []), child]);
  }
  const found: { pid: number; name: string }[] = [];
  const queue = [...(parents.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push({ pid: next, name: names.get(next) ?? "" });
    queue.push(...(parents.get(next) ?? []));
  }
  return found;
}

/**
 * Tells whether a process still runs (and is not a zombie).
 *
 * @param pid The process id.
 * @returns `true` while it runs.
 *
 * @example
 * ```ts ignore
 * assert.equal(processAlive(pid), false);
 * ```
 */
export function processAlive(pid: number): boolean {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    return stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z";
  } catch {
    return false;
  }
}

/** What {@link rawHttp} sends. */
export interface RawHttpRequest {
  /** The full URL (`http:` only). */
  url: string;
  /** @default {"PUT"} */
  method?: string;
  /** Headers, sent exactly as given (nothing is added but `Host` and `Connection: close`). */
  headers?: Record<string, string>;
  /** Body bytes, written as they come: no chunked encoding, no length of its own. */
  body?: Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>;
  /**
   * Close the connection once this many body bytes were written, without reading an answer:
   * a client that goes away halfway.
   */
  hangUpAfterBytes?: number;
}

/** An answer read by {@link rawHttp}. */
export interface RawHttpResponse {
  status: number;
  headers: Headers;
  /** The body as text. */
  text: string;
}

/**
 * Sends one HTTP/1.1 request over a plain TCP connection, with full control over the framing:
 * a declared `Content-Length` that the body does not match, a body streamed from a generator
 * with its length (which `fetch` would send chunked), or a client that hangs up halfway.
 *
 * @param request What to send.
 * @returns The answer, or `undefined` when `hangUpAfterBytes` cut the request.
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
export async function rawHttp(request: RawHttpRequest): Promise<RawHttpResponse | undefined> {
  const url = new URL(request.url);
  const conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port || 80) });
  try {
    const head = [`${request.method ?? "PUT"} ${url.pathname}${url.search} HTTP/1.1`];
    head.push(`Host: ${url.host}`, "Connection: close");
    for (const [name, value] of Object.entries(request.headers ?? {})) {
      head.push(`${name}: ${value}`);
    }
    await writeAll(conn, new TextEncoder().encode(head.join("\r\n") + "\r\n\r\n"));
    let written = 0;
    const limit = request.hangUpAfterBytes ?? Infinity;
    const body = request.body instanceof Uint8Array ? [request.body] : request.body ?? [];
    for await (const chunk of body as AsyncIterable<Uint8Array>) {
      const part = written + chunk.length > limit ? chunk.subarray(0, limit - written) : chunk;
      await writeAll(conn, part);
      written += part.length;
      if (written >= limit) return undefined;
    }
    return await readResponse(conn);
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  for (let offset = 0; offset < bytes.length;) offset += await conn.write(bytes.subarray(offset));
}

async function readResponse(conn: Deno.Conn): Promise<RawHttpResponse> {
  let buffer = new Uint8Array(0);
  const chunk = new Uint8Array(64 * 1024);
  const more = async () => {
    const n = await conn.read(chunk);
    if (n === null) return false;
    const next = new Uint8Array(buffer.length + n);
    next.set(buffer);
    next.set(chunk.subarray(0, n), buffer.length);
    buffer = next;
    return true;
  };
  const headEnd = () => new TextDecoder("latin1").decode(buffer).indexOf("\r\n\r\n");
  while (headEnd() < 0) {
    if (!await more()) throw new Error("the connection closed before an answer");
  }
  const end = headEnd();
  const [statusLine, ...fields] = new TextDecoder("latin1").decode(buffer.subarray(0, end))
    .split("\r\n");
  const headers = new Headers();
  for (const field of fields) {
    const colon = field.indexOf(":");
    headers.append(field.slice(0, colon).trim(), field.slice(colon + 1).trim());
  }
  buffer = buffer.subarray(end + 4);
  const length = headers.get("content-length");
  if (length !== null) {
    while (buffer.length < Number(length) && await more());
  } else {
    while (await more());
  }
  let body: Uint8Array = buffer;
  if (/chunked/i.test(headers.get("transfer-encoding") ?? "")) body = dechunk(buffer);
  return {
    status: Number(statusLine.split(" ")[1]),
    headers,
    text: new TextDecoder().decode(body),
  };
}

function dechunk(bytes: Uint8Array): Uint8Array {
  const parts: Uint8Array[] = [];
  let offset = 0;
  const text = new TextDecoder("latin1");
  while (offset < bytes.length) {
    const lineEnd = text.decode(bytes.subarray(offset)).indexOf("\r\n");
    if (lineEnd < 0) break;
    const size = parseInt(text.decode(bytes.subarray(offset, offset + lineEnd)), 16);
    if (!size) break;
    parts.push(bytes.subarray(offset + lineEnd + 2, offset + lineEnd + 2 + size));
    offset += lineEnd + 2 + size + 2;
  }
  const out = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.length;
  }
  return out;
}

/**
 * Counts a process's open sockets, from `/proc` (Linux).
 *
 * @param pid The process id.
 * @returns The number of open socket descriptors.
 */
export function openSockets(pid: number): number {
  let sockets = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith("socket:")) sockets++;
    } catch { /* closed meanwhile */ }
  }
  return sockets;
}

/** One TCP connection of a process, from `/proc/net/tcp` (Linux). */
export interface TcpConnection {
  /** The process's own port. */
  localPort: number;
  /** The peer's port. */
  remotePort: number;
  /** The TCP state, such as `ESTABLISHED`, `LISTEN` or `CLOSE_WAIT`. */
  state: string;
}

const TCP_STATES: Record<string, string> = {
  "01": "ESTABLISHED",
  "02": "SYN_SENT",
  "03": "SYN_RECV",
  "04": "FIN_WAIT1",
  "05": "FIN_WAIT2",
  "06": "TIME_WAIT",
  "07": "CLOSE",
  "08": "CLOSE_WAIT",
  "09": "LAST_ACK",
  "0A": "LISTEN",
  "0B": "CLOSING",
};

/**
 * Lists the TCP connections a process holds open (its socket descriptors matched with
 * `/proc/net/tcp` and `tcp6`), so that a test can tell a connection from a client apart from
 * a pooled one to an upstream (Linux).
 *
 * @param pid The process id.
 * @returns Its TCP sockets, listening ones included.
 *
 * @example
 * ```ts ignore
 * const fromClients = tcpConnections(worker.pid)
 *   .filter((c) => c.localPort === workerPort && c.state !== "LISTEN");
 * ```
 */
export function tcpConnections(pid: number): TcpConnection[] {
  const inodes = new Set<string>();
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const match = /^socket:\[(\d+)\]$/.exec(Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`));
      if (match) inodes.add(match[1]);
    } catch { /* closed meanwhile */ }
  }
  const found: TcpConnection[] = [];
  for (const table of ["tcp", "tcp6"]) {
    let text = "";
    try {
      text = Deno.readTextFileSync(`/proc/${pid}/net/${table}`);
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      const fields = line.trim().split(/\s+/);
      if (fields.length < 10 || !inodes.has(fields[9])) continue;
      const port = (address: string) => parseInt(address.split(":")[1], 16);
      found.push({
        localPort: port(fields[1]),
        remotePort: port(fields[2]),
        state: TCP_STATES[fields[3]] ?? fields[3],
      });
    }
  }
  return found;
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

/** What {@link startRig} starts: the local stack, an S3 proxy and the worker in one runtime. */
export interface Rig {
  stack: LocalStack;
  /** The proxy every pre-signed URL goes through (it records request heads). */
  proxy: TcpProxy;
  worker: StartedWorker;
  client: ParticipantClient;
  /** A connected chat participant's ConnectionToken. */
  token: string;
  /** Participant Service calls so far, by operation. */
  calls: Record<string, number>;
  /** `PUT /attachments/{name}` through the worker, with the rig's token. */
  upload(
    name: string,
    body: Uint8Array<ArrayBuffer>,
    headers?: Record<string, string>,
  ): Promise<{ status: number; headers: Headers; json: Record<string, unknown> }>;
  /** The attachments in a chat's transcript (the rig's chat by default). */
  attachments(token?: string): Promise<{ id: string; name: string }[]>;
  /**
   * How many attachments the service started have their full bytes in S3 (the local S3 may
   * keep an empty object behind a cut upload; real S3 keeps nothing).
   */
  storedObjects(): Promise<number>;
  close(): Promise<void>;
}

/** Options of {@link startRig}. */
export interface RigOptions {
  /** Pre-signed URL lifetime. @default {300} */
  uploadUrlTtlSeconds?: number;
  /** Worker variables. */
  vars?: Record<string, string>;
  /** `CORS_ORIGINS`. */
  corsOrigins?: string[];
  /** Open the worker's inspector, for `worker.collectGarbage()`. @default {false} */
  inspect?: boolean;
  /** Completed attachments one chat may hold. @default {the local service's (100)} */
  maxAttachmentsPerChat?: number;
  /** The local service's scanner. @default {off} */
  scanning?: { delayMs: number };
}

/**
 * Starts the local stack, a recording S3 proxy that every pre-signed URL points at, and the
 * worker (allowed to upload to the proxy only), and opens a chat.
 *
 * @param runtime Where the worker runs.
 * @param options URL lifetime and worker variables.
 */
export async function startRig(runtime: WorkerRuntime, options: RigOptions = {}): Promise<Rig> {
  const calls: Record<string, number> = {};
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    uploadUrlTtlSeconds: options.uploadUrlTtlSeconds,
    maxAttachmentsPerChat: options.maxAttachmentsPerChat,
    scanning: options.scanning,
    log: (line) => {
      const operation = line.split(" ")[2];
      if (/^[A-Z]\w+$/.test(operation ?? "")) calls[operation] = (calls[operation] ?? 0) + 1;
    },
  });
  const proxy = startProxy({
    target: { hostname: "127.0.0.1", port: Number(new URL(stack.s3.url).port) },
    recordHeads: true,
  });
  stack.service.s3.publicUrl = proxy.url;
  let worker: StartedWorker;
  try {
    worker = await startWorker({
      runtime,
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(proxy.url).host],
      corsOrigins: options.corsOrigins,
      vars: options.vars,
      inspect: options.inspect,
    });
  } catch (error) {
    await proxy.close();
    await stack.close();
    throw error;
  }
  const client = createParticipantClient({ endpoint: stack.participantUrl });
  const { connectionToken: token } = await openChat(client);
  return {
    stack,
    proxy,
    worker,
    client,
    token,
    calls,
    async upload(name, body, headers = {}) {
      const response = await workerFetch(`${worker.url}/attachments/${encodeURIComponent(name)}`, {
        method: "PUT",
        headers: { "X-Amz-Bearer": token, ...headers },
        body,
      });
      const json = await response.json().catch(() => ({}));
      return { status: response.status, headers: response.headers, json };
    },
    async attachments(chatToken = token) {
      const found: { id: string; name: string }[] = [];
      let nextToken: string | undefined;
      do {
        const page = await client.getTranscript(chatToken, {
          MaxResults: 100,
          ...(nextToken ? { NextToken: nextToken } : {}),
        });
        if (page.error) throw new Error(`GetTranscript: ${page.error.name}`);
        for (const item of page.data.Transcript ?? []) {
          for (const a of item.Attachments ?? []) {
            found.push({ id: a.AttachmentId!, name: a.AttachmentName! });
          }
        }
        nextToken = page.data.NextToken;
      } while (nextToken);
      return found;
    },
    async storedObjects() {
      const target = { ...stack.service.s3, publicUrl: undefined };
      let count = 0;
      for (const chat of stack.service.store.chats.values()) {
        for (const attachment of chat.attachments.values()) {
          if ((await headObject(target, attachment.key))?.size === attachment.size) count++;
        }
      }
      return count;
    },
    async close() {
      await worker.close();
      await proxy.close();
      await stack.close();
    },
  };
}

/**
 * Lints an OpenAPI file with Redocly CLI under the house rules (`redocly.yaml`).
 *
 * @param path The file, relative to the checkout.
 * @returns Every problem as `rule: message at pointer` (empty when clean), the totals and the
 * run itself.
 */
export async function redoclyLint(path: string): Promise<{
  problems: string[];
  totals: { errors: number; warnings: number; ignored: number };
  run: ProcessResult;
}> {
  const run = await runDeno(
    [
      "run",
      "-A",
      "npm:@redocly/cli@2.77.0",
      "lint",
      "--config",
      "redocly.yaml",
      "--format",
      "json",
      path,
    ],
    { cwd: REPO_ROOT, env: { REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" } },
  );
  const start = run.stdout.indexOf("{");
  if (start < 0) throw new Error(`no JSON report from Redocly CLI:\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(run.stdout.slice(start)) as {
    totals: { errors: number; warnings: number; ignored: number };
    problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
  };
  const problems = report.problems.map((p) =>
    `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? "?"}`
  );
  return { problems, totals: report.totals, run };
}

/**
 * Waits for something that should happen at once (an abort taking effect, say), failing when
 * it has not settled within `boundMs`. The bound is generous on purpose: it catches "never"
 * and "only after a long pause", and it times nothing (a loaded machine stays far inside it).
 *
 * @param promise What should settle.
 * @param boundMs How long to wait before failing.
 * @param what Names it in the failure.
 * @returns How it settled, and after how many milliseconds.
 *
 * @example
 * ```ts ignore
 * controller.abort();
 * const { result } = await settlesWithin(pending, 10_000, "the aborted upload");
 * assert.equal(result.status, "rejected");
 * ```
 */
export async function settlesWithin<T>(
  promise: Promise<T>,
  boundMs: number,
  what: string,
): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((
    resolve,
  ) => (timer = setTimeout(() => resolve("late"), boundMs)));
  const settled = promise.then(
    (value): PromiseSettledResult<T> => ({ status: "fulfilled", value }),
    (reason): PromiseSettledResult<T> => ({ status: "rejected", reason }),
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (result === "late") throw new Error(`${what} had not taken effect after ${boundMs} ms`);
  return { result, ms: performance.now() - started };
}
