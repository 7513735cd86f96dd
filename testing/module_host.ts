/**
 * A static host for this checkout, so that scripts can import `src/mod.ts` and run
 * `src/cli.ts` by URL the way they would from any web host: `.ts` files are served as
 * TypeScript. Run it with `deno run -A testing/module_host.ts` (port from `MODULE_HOST_PORT`,
 * default 8000).
 *
 * @module
 */

import { assertPortFree } from "./ports.ts";

/** A running module host. */
export interface ModuleHost {
  /** The base URL, such as `http://127.0.0.1:8000`. */
  url: string;
  /** Stops serving. */
  close(): Promise<void>;
}

const TYPES: Record<string, string> = {
  ts: "application/typescript; charset=utf-8",
  js: "text/javascript; charset=utf-8",
  json: "application/json",
  md: "text/markdown; charset=utf-8",
  yaml: "text/yaml; charset=utf-8",
};

/**
 * Serves the files under `root` read-only over plain HTTP. Paths that climb out of `root`
 * are refused.
 *
 * @param root The folder to serve.
 * @param options The address and port (`0` picks a free one).
 * @returns The running host.
 *
 * @example
 * ```ts ignore
 * import { serveModules } from "./module_host.ts";
 * const host = serveModules(new URL("..", import.meta.url).pathname, { port: 0 });
 * console.log(`${host.url}/src/mod.ts`);
 * await host.close();
 * ```
 */
export function serveModules(
  root: string,
  options: { hostname?: string; port?: number } = {},
): ModuleHost {
  const { hostname = "127.0.0.1", port = 8000 } = options;
  assertPortFree(hostname, port, "module host", "MODULE_HOST_PORT");
  const base = root.replace(/\/+$/, "");
  const server = Deno.serve({ hostname, port, onListen: () => {} }, async (req) => {
    if (req.method !== "GET" && req.method !== "HEAD") {
      return new Response("read-only", { status: 405 });
    }
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url).pathname);
    } catch {
      return new Response("bad path", { status: 400 });
    }
    if (path.split("/").some((segment) => segment === ".." || segment.startsWith("."))) {
      return new Response("not found", { status: 404 });
    }
    try {
      const body = await Deno.readFile(base + path);
      const type = TYPES[path.split(".").at(-1) ?? ""] ?? "application/octet-stream";
      return new Response(req.method === "HEAD" ? null : body, {
        headers: { "content-type": type },
      });
    } catch {
      return new Response("not found", { status: 404 });
    }
  });
  return { url: `http://${hostname}:${server.addr.port}`, close: () => server.shutdown() };
}

if (import.meta.main) {
  const port = Number(Deno.env.get("MODULE_HOST_PORT") ?? 8000);
  const host = serveModules(new URL("..", import.meta.url).pathname, { port });
  console.log(`Serving this checkout at ${host.url} (try ${host.url}/src/mod.ts)`);
}
