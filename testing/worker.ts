/**
 * Runs the upload worker for real, for tests, the benchmark and the soak: inside workerd
 * (Miniflare, or `wrangler dev`) or under Deno (`worker/deno.ts` as a child process), on a
 * real port, against any Participant Service and S3; and builds its bundle once per state of
 * the sources.
 *
 * @module
 */

import { buildWorkerBundle } from "../worker/_build/bundle.ts";
import { textLines } from "./lines.ts";
import { startWranglerDev } from "./wrangler.ts";
import { startWorkerd } from "./workerd.ts";
import { freePort } from "./ports.ts";
import { commandLine, descendantProcesses, stopProcess } from "./processes.ts";
import { collectGarbage } from "./inspector.ts";

/** Where the worker runs. */
export type WorkerRuntime = "workerd" | "deno";

/** Options of {@link startWorker}. */
export interface StartWorkerOptions {
  /** `workerd` runs the production bundle; `deno` runs `worker/deno.ts`. */
  runtime: WorkerRuntime;
  /** How workerd is started: Miniflare (quick) or `wrangler dev`. @default {"miniflare"} */
  launcher?: "miniflare" | "wrangler";
  /** The Participant Service base URL (`PARTICIPANT_ENDPOINT`). */
  participantUrl: string;
  /** Allowed S3 hosts (`UPLOAD_HOSTS`), such as `["127.0.0.1:4568"]`. */
  uploadHosts: string[];
  /** `MAX_ATTACHMENT_BYTES`. @default {the worker's default (20 MB)} */
  maxAttachmentBytes?: number;
  /** `ALLOWED_TYPES`. */
  allowedTypes?: string[];
  /** `CORS_ORIGINS`. */
  corsOrigins?: string[];
  /** Any other variables. */
  vars?: Record<string, string>;
  /**
   * Which build runs: `production` (the Workers bundle, `worker/deno.ts`), or `development`
   * (the bundle with the page, `worker/_build/dev_deno.ts`).
   * @default {"development" where DEV_PAGE is true, else "production"}
   */
  build?: "production" | "development";
  /**
   * In workerd (Miniflare), run the per-token rate limit that `wrangler.jsonc` declares. Off
   * by default: tests send many requests with one token on purpose (`rate_limit_test.ts` turns
   * it on).
   * @default {false}
   */
  rateLimit?: boolean;
  /**
   * Under Deno: write a V8 CPU profile (`--cpu-prof`) into this folder when the worker stops.
   */
  cpuProfileDir?: string;
  /**
   * Open the runtime's inspector on a free port of 127.0.0.1, so that
   * {@link StartedWorker.collectGarbage} works (not with the `wrangler` launcher).
   * @default {false}
   */
  inspect?: boolean;
}

/** A running worker. */
export interface StartedWorker {
  /** Where it runs. */
  runtime: WorkerRuntime;
  /** The base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** The id of the process that serves requests (workerd, or the Deno child). */
  pid: number;
  /** Every line the worker printed so far (its request logs included). */
  logs: string[];
  /**
   * Waits for a printed line that matches.
   * @param match What to look for.
   * @param timeoutMs How long to wait before failing. @default {30000}
   */
  waitForLog(match: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /**
   * Runs a full garbage collection in every isolate of the worker's process, waits for it and
   * returns the bytes that stay live in their JavaScript heaps (ArrayBuffers included); only
   * where the worker was started with `inspect`.
   */
  collectGarbage?: () => Promise<number>;
  /** Stops the worker and its processes. */
  close(): Promise<void>;
}

/**
 * Starts the upload worker in workerd or Deno, on a free port of 127.0.0.1.
 *
 * @param options Runtime and configuration.
 * @returns The running worker.
 *
 * @example
 * ```ts ignore
 * const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
 * const worker = await startWorker({
 *   runtime: "workerd",
 *   participantUrl: stack.participantUrl,
 *   uploadHosts: [new URL(stack.s3.url).host],
 * });
 * await fetch(`${worker.url}/healthz`);
 * await worker.close();
 * ```
 */
export async function startWorker(options: StartWorkerOptions): Promise<StartedWorker> {
  const vars = workerVars(options);
  const development =
    (options.build ?? (vars.DEV_PAGE === "true" ? "development" : "production")) ===
      "development";
  const logs: string[] = [];
  const waiters = new Set<{ match: (line: string) => boolean; resolve: (line: string) => void }>();
  const record = (line: string) => {
    logs.push(line);
    for (const waiter of waiters) {
      if (waiter.match(line)) {
        waiters.delete(waiter);
        waiter.resolve(line);
      }
    }
  };
  const waitForLog = (match: (line: string) => boolean, timeoutMs = 30_000) => {
    const seen = logs.find(match);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`no matching log line within ${timeoutMs} ms; got:\n${logs.join("\n")}`));
      }, timeoutMs);
      const waiter = {
        match,
        resolve: (line: string) => {
          clearTimeout(timer);
          resolve(line);
        },
      };
      waiters.add(waiter);
    });
  };

  const inspectorPort = options.inspect ? freePort() : undefined;
  const inspector = `http://127.0.0.1:${inspectorPort}`;
  if (options.runtime === "deno") {
    return {
      ...await startDeno(vars, record, development, [
        ...(inspectorPort ? [`--inspect=127.0.0.1:${inspectorPort}`] : []),
        ...(options.cpuProfileDir ? ["--cpu-prof", `--cpu-prof-dir=${options.cpuProfileDir}`] : []),
      ]),
      runtime: "deno",
      logs,
      waitForLog,
      ...(inspectorPort ? { collectGarbage: () => collectGarbage(inspector, "collect") } : {}),
    };
  }
  if (options.launcher === "wrangler") {
    if (options.inspect) throw new Error("inspect needs the miniflare launcher");
    const script = await workerBundle({ devPage: development });
    const dev = await startWranglerDev({ port: 0, script, vars, onLine: record });
    // wrangler runs a proxy workerd and the worker's own workerd: the latter has an inspector.
    const workerd = descendantProcesses(dev.pid).filter((p) => p.name === "workerd")
      .map((p) => ({ ...p, cmdline: commandLine(p.pid) }));
    const own = workerd.find((p) => p.cmdline.includes("--inspector-addr")) ?? workerd[0];
    return { runtime: "workerd", url: dev.url, pid: own.pid, logs, waitForLog, close: dev.close };
  }
  return {
    ...await startMiniflare(vars, record, development, inspectorPort, options.rateLimit),
    runtime: "workerd",
    logs,
    waitForLog,
    ...(inspectorPort ? { collectGarbage: () => collectGarbage(inspector, "snapshot") } : {}),
  };
}

/**
 * The worker's variables for a configuration, as workerd bindings or environment variables.
 *
 * @param options The configuration.
 * @returns `PARTICIPANT_ENDPOINT`, `UPLOAD_HOSTS` and the rest.
 *
 * @example
 * ```ts ignore
 * const vars = workerVars({ participantUrl: stack.participantUrl, uploadHosts: ["127.0.0.1:4568"] });
 * ```
 */
export function workerVars(options: Omit<StartWorkerOptions, "runtime">): Record<string, string> {
  return {
    PARTICIPANT_ENDPOINT: options.participantUrl,
    UPLOAD_HOSTS: options.uploadHosts.join(","),
    ...(options.maxAttachmentBytes !== undefined
      ? { MAX_ATTACHMENT_BYTES: String(options.maxAttachmentBytes) }
      : {}),
    ...(options.allowedTypes ? { ALLOWED_TYPES: options.allowedTypes.join(",") } : {}),
    ...(options.corsOrigins ? { CORS_ORIGINS: options.corsOrigins.join(",") } : {}),
    ...options.vars,
  };
}

async function startMiniflare(
  vars: Record<string, string>,
  record: (line: string) => void,
  development: boolean,
  inspectorPort?: number,
  rateLimit?: boolean,
): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const scriptPath = await workerBundle({ devPage: development });
  return await runInMiniflare(scriptPath, vars, record, inspectorPort, rateLimit);
}

/**
 * Runs a module worker script in workerd through Miniflare, and finds the workerd process
 * that serves it.
 *
 * @param scriptPath The script.
 * @param vars Its `vars`.
 * @param record Told every line it prints.
 * @param inspectorPort Opens workerd's inspector on this port.
 * @param rateLimit Runs the rate limiters `wrangler.jsonc` declares. @default {false}
 * @returns Its URL, the workerd process id, and how to stop it.
 *
 * @example
 * ```ts ignore
 * const worker = await runInMiniflare("bench/control_worker.js", {}, () => {});
 * await worker.close();
 * ```
 */
export async function runInMiniflare(
  scriptPath: string,
  vars: Record<string, string>,
  record: (line: string) => void,
  inspectorPort?: number,
  rateLimit = false,
): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const worker = await startWorkerd({
    scriptPath,
    vars,
    onLine: record,
    inspectorPort,
    rateLimit,
  });
  const socket = `--socket-addr=entry=127.0.0.1:${worker.port}`;
  const own = descendantProcesses(Deno.pid).find((p) =>
    p.name === "workerd" && commandLine(p.pid).includes(socket)
  );
  if (!own) {
    await worker.close();
    throw new Error("cannot find the workerd process that Miniflare started");
  }
  return { url: worker.url, pid: own.pid, close: worker.close };
}

async function startDeno(
  vars: Record<string, string>,
  record: (line: string) => void,
  development: boolean,
  flags: string[],
): Promise<{ url: string; pid: number; close(): Promise<void> }> {
  const env: Record<string, string> = { ...vars, NO_COLOR: "1" };
  for (const name of ["HOME", "PATH", "DENO_DIR", "TMPDIR", "XDG_CACHE_HOME"]) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-net",
      "--allow-env",
      // The development entry bundles the page's scripts at start (deno bundle).
      ...(development ? ["--allow-read", "--allow-run"] : []),
      ...flags,
      // Like the workerd bundles: the production entry point, or the development one (which
      // carries the page) where the page is wanted.
      new URL(
        development ? "../worker/_build/dev_deno.ts" : "../worker/deno.ts",
        import.meta.url,
      ).pathname,
      "--hostname",
      "127.0.0.1",
      "--port",
      "0",
    ],
    cwd: new URL("..", import.meta.url).pathname,
    clearEnv: true,
    env,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let listening: (url: string) => void = () => {};
  const ready = new Promise<string>((resolve) => (listening = resolve));
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of textLines(stream)) {
      record(line);
      const match = /^listening on (http:\/\/\S+?)\/?$/.exec(line);
      if (match) listening(match[1]);
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);
  const close = async () => {
    await stopProcess(child);
    await reading;
  };
  const url = await Promise.race([
    ready,
    child.status.then((status) => {
      throw new Error(`worker/deno.ts exited with code ${status.code}`);
    }),
  ]).catch(async (error) => {
    await close();
    throw error;
  });
  return { url, pid: child.pid, close };
}

const ROOT = new URL("..", import.meta.url).pathname;
const SOURCES = ["worker", "src", "generated"];

/**
 * The production bundle (as `deno task build` makes it) of the current sources, or the
 * development bundle (with the page) when asked, built once: it is kept as
 * `dist/bundles/<hash of the sources>[-dev]/worker.js`, so that every test file (and every
 * run) with the same sources shares one build. Each bundle sits alone in its folder and
 * never changes, so a `wrangler dev` watching it never reloads.
 *
 * @param options Whether the development page is wanted.
 * @returns The bundle's path.
 *
 * @example
 * ```ts ignore
 * const scriptPath = await workerBundle();
 * ```
 */
export async function workerBundle(options: { devPage?: boolean } = {}): Promise<string> {
  const folder = `${ROOT}dist/bundles/${await sourceHash()}${options.devPage ? "-dev" : ""}`;
  const path = `${folder}/worker.js`;
  try {
    await Deno.stat(path);
    return path;
  } catch { /* not built yet */ }
  const building = `${ROOT}dist/bundles/building-${crypto.randomUUID()}`;
  await buildWorkerBundle(`${building}/worker.js`, options);
  try {
    await Deno.rename(building, folder);
  } catch {
    // Another test file built the same sources first: use theirs.
    await Deno.remove(building, { recursive: true });
  }
  return path;
}

async function sourceHash(): Promise<string> {
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of Deno.readDirSync(dir)) {
      const path = `${dir}/${entry.name}`;
      if (entry.isDirectory) walk(path);
      else files.push(path);
    }
  };
  for (const dir of SOURCES) walk(`${ROOT}${dir}`);
  files.push(`${ROOT}deno.json`);
  files.sort();
  const parts: Uint8Array[] = [];
  for (const file of files) {
    parts.push(new TextEncoder().encode(file), await Deno.readFile(file));
  }
  const all = new Uint8Array(parts.reduce((n, part) => n + part.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return Array.from(digest.subarray(0, 8), (b) => b.toString(16).padStart(2, "0")).join("");
}
