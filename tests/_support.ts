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

/** One request and its answer, as seen on the wire by {@link recordingFetch}. */
export interface Exchange {
  method: string;
  /** The URL path, such as `/participant/transcript`. */
  path: string;
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
