/**
 * The worker's wrangler configuration (`worker/wrangler.jsonc`, read once, comments and all),
 * and running the upload worker in workerd through `wrangler dev --local`, as a child process.
 *
 * @module
 */

import { textLines } from "./lines.ts";
import { freePort, startOnPickedPort } from "./ports.ts";
import { stopProcess } from "./processes.ts";

/** The wrangler release the project runs (the newest that runs on Node 20). */
export const WRANGLER = "npm:wrangler@4.86.0";

/** The worker's wrangler configuration. */
export const WRANGLER_CONFIG: string = new URL("../worker/wrangler.jsonc", import.meta.url)
  .pathname;

/** What a wrangler configuration sets for the runtime. */
export interface WranglerSettings {
  /** `compatibility_date`, such as `2026-04-01`. */
  compatibilityDate: string;
  /** `compatibility_flags`. */
  compatibilityFlags: string[];
  /** `vars`, as strings. */
  vars: Record<string, string>;
  /** `assets`: the static assets' folder (resolved from the file), binding and routing. */
  assets?: { directory: string; binding?: string; runWorkerFirst: boolean };
  /** `ratelimits`: each rate-limiting binding, with its simple limit per period (seconds). */
  rateLimits: { name: string; namespaceId: string; limit: number; period: number }[];
}

/**
 * Reads the runtime settings of a wrangler configuration in JSONC, so that local runs,
 * benchmarks and deploys use the same compatibility date, flags, vars and bindings (static
 * assets, rate limiters).
 *
 * @param path The configuration. @default {WRANGLER_CONFIG}
 * @returns Its compatibility date, flags, vars, assets and rate limiters.
 * @throws {Error} When it sets no compatibility date.
 *
 * @example
 * ```ts ignore
 * import { wranglerSettings } from "./wrangler.ts";
 * console.log(wranglerSettings().compatibilityDate);
 * ```
 */
export function wranglerSettings(path: string = WRANGLER_CONFIG): WranglerSettings {
  const json = JSON.parse(withoutComments(Deno.readTextFileSync(path))) as {
    compatibility_date?: string;
    compatibility_flags?: string[];
    vars?: Record<string, unknown>;
    assets?: { directory: string; binding?: string; run_worker_first?: boolean };
    ratelimits?: {
      name: string;
      namespace_id: string;
      simple: { limit: number; period: number };
    }[];
  };
  if (!json.compatibility_date) throw new Error(`no compatibility_date in ${path}`);
  return {
    compatibilityDate: json.compatibility_date,
    compatibilityFlags: json.compatibility_flags ?? [],
    vars: Object.fromEntries(
      Object.entries(json.vars ?? {}).map((
        [k, v],
      ) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
    ...(json.assets
      ? {
        assets: {
          directory: new URL(json.assets.directory, `file://${path}`).pathname,
          binding: json.assets.binding,
          runWorkerFirst: json.assets.run_worker_first === true,
        },
      }
      : {}),
    rateLimits: (json.ratelimits ?? []).map((r) => ({
      name: r.name,
      namespaceId: r.namespace_id,
      limit: r.simple.limit,
      period: r.simple.period,
    })),
  };
}

/** JSONC as JSON: `//` and `/* *\/` comments and trailing commas removed, outside strings. */
function withoutComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      let end = i + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === "\\" ? 2 : 1;
      out += text.slice(i, end + 1);
      i = end;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

/** Options of {@link startWranglerDev}. */
export interface WranglerDevOptions {
  /** The port to serve on; `0` picks a free one. */
  port: number;
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** Worker `vars` to set (passed as `--var NAME:value`, over those of the config). */
  vars?: Record<string, string>;
  /** The wrangler configuration file. @default {WRANGLER_CONFIG} */
  config?: string;
  /** A bundle to run instead of the configuration's `main`. */
  script?: string;
  /** Told every line wrangler and the worker print (colours stripped). */
  onLine?: (line: string) => void;
  /** How long to wait for wrangler to say it is ready. @default {90000} */
  readyTimeoutMs?: number;
}

/** A running `wrangler dev`. */
export interface WranglerDev {
  /** The worker's base URL, such as `http://127.0.0.1:8787`. */
  url: string;
  /** The wrangler process id (workerd runs as its child). */
  pid: number;
  /** Resolves when wrangler exits. */
  exited: Promise<Deno.CommandStatus>;
  /** Stops wrangler (and so workerd): SIGTERM, then SIGKILL if it lingers. */
  close(): Promise<void>;
}

/**
 * Starts `wrangler dev --local` on the worker's configuration and waits until it serves.
 * Needs the bundle (`deno task build`) to exist.
 *
 * @param options Port, vars and where output goes.
 * @returns The running server.
 * @throws {Error} When wrangler exits or is not ready in time, with its last output.
 *
 * @example
 * ```ts ignore
 * import { startWranglerDev } from "./wrangler.ts";
 * const dev = await startWranglerDev({ port: 8787, vars: { AWS_REGION: "us-east-1" } });
 * console.log(dev.url);
 * await dev.close();
 * ```
 */
export function startWranglerDev(options: WranglerDevOptions): Promise<WranglerDev> {
  return startOnPickedPort(options.port === 0, () => startOnce(options));
}

async function startOnce(options: WranglerDevOptions): Promise<WranglerDev> {
  const { hostname = "127.0.0.1", readyTimeoutMs = 90_000 } = options;
  const port = options.port === 0 ? freePort(hostname) : options.port;
  const args = [
    "run",
    "-A",
    WRANGLER,
    "dev",
    ...(options.script ? [options.script] : []),
    "--config",
    options.config ?? WRANGLER_CONFIG,
    "--local",
    "--ip",
    hostname,
    "--port",
    String(port),
    "--inspector-port",
    String(freePort(hostname)),
    "--show-interactive-dev-session=false",
    "--log-level",
    "log",
  ];
  for (const [name, value] of Object.entries(options.vars ?? {})) {
    args.push("--var", `${name}:${value}`);
  }
  const child = new Deno.Command(Deno.execPath(), {
    args,
    env: { NO_COLOR: "1", FORCE_COLOR: "0", WRANGLER_SEND_METRICS: "false" },
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const exited = child.status;

  const tail: string[] = [];
  let ready: (url: string) => void = () => {};
  const readyUrl = new Promise<string>((resolve) => (ready = resolve));
  const read = async (stream: ReadableStream<Uint8Array>) => {
    for await (const line of textLines(stream)) {
      // deno-lint-ignore no-control-regex
      const clean = line.replace(/\x1b\[[0-9;]*m/g, "");
      tail.push(clean);
      if (tail.length > 40) tail.shift();
      options.onLine?.(clean);
      const match = /Ready on (http:\/\/\S+)/.exec(clean);
      if (match) ready(match[1].replace(/\/$/, ""));
    }
  };
  const reading = Promise.all([read(child.stdout), read(child.stderr)]);

  const close = async () => {
    await stopProcess(child);
    await reading;
  };

  let timer: ReturnType<typeof setTimeout> | undefined;
  const outcome = await Promise.race([
    readyUrl,
    exited.then((status) => new Error(`wrangler dev exited with code ${status.code}`)),
    new Promise<Error>((resolve) => {
      timer = setTimeout(
        () => resolve(new Error(`wrangler dev was not ready within ${readyTimeoutMs} ms`)),
        readyTimeoutMs,
      );
    }),
  ]);
  clearTimeout(timer);
  if (outcome instanceof Error) {
    await close();
    throw new Error(`${outcome.message}; its last output:\n${tail.join("\n")}`);
  }
  return { url: outcome, pid: child.pid, exited, close };
}
