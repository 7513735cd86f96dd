/**
 * The upload worker alone in a workerd process of its own, started from a Cap'n Proto
 * configuration without Miniflare: one isolate, no entry or helper workers beside it. Its CPU
 * profile and its process's CPU time are then the worker's and nothing else's, which is what
 * the cost figure needs (under Miniflare, its entry worker shares the thread and its samples
 * land in the upload worker's profile).
 *
 * @module
 */

import workerd from "workerd";
import { freePort } from "../testing/ports.ts";
import { stopProcess } from "../testing/processes.ts";
import { wranglerSettings } from "../testing/wrangler.ts";

/** A worker running in a bare workerd. */
export interface BareWorkerd {
  /** Its base URL. */
  url: string;
  /** The workerd process. */
  pid: number;
  /** Its inspector's base URL (Chrome DevTools Protocol). */
  inspector: string;
  /** Stops workerd and removes its configuration. */
  close(): Promise<void>;
}

/** The workerd binary the project's Miniflare runs. */
const WORKERD: string = (workerd as unknown as { default: string }).default;

/**
 * Starts a module worker in workerd, with text bindings, outbound `fetch` allowed to any
 * address (loopback included), an inspector, and a socket on a free port of 127.0.0.1.
 *
 * @param scriptPath The bundle (one ES module).
 * @param vars Its text bindings.
 * @returns The running worker.
 *
 * @example
 * ```ts ignore
 * import { startBareWorkerd } from "./bare_workerd.ts";
 * const worker = await startBareWorkerd("dist/worker.js", { AWS_REGION: "us-east-1" });
 * await worker.close();
 * ```
 */
export async function startBareWorkerd(
  scriptPath: string,
  vars: Record<string, string>,
): Promise<BareWorkerd> {
  const dir = await Deno.makeTempDir({ prefix: "bare-workerd-" });
  const port = freePort();
  const inspectorPort = freePort();
  const bindings = Object.entries(vars)
    .map(([name, text]) => `(name = ${JSON.stringify(name)}, text = ${JSON.stringify(text)})`)
    .join(",\n      ");
  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    (name = "net", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);

const worker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${JSON.stringify(wranglerSettings().compatibilityDate)},
  bindings = [
      ${bindings}
  ],
  globalOutbound = "net",
);
`;
  await Deno.writeTextFile(`${dir}/config.capnp`, config);
  // `embed` reads files beside the configuration.
  await Deno.copyFile(scriptPath, `${dir}/worker.js`);
  const child = new Deno.Command(WORKERD, {
    args: ["serve", `${dir}/config.capnp`, `--inspector-addr=127.0.0.1:${inspectorPort}`],
    stdin: "null",
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = child.stderr.pipeThrough(new TextDecoderStream()).getReader();
  let output = "";
  const reading = (async () => {
    while (true) {
      const { value, done } = await stderr.read();
      if (done) return;
      output = (output + value).slice(-4000);
    }
  })();
  const close = async () => {
    await stopProcess(child);
    await reading;
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  };
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  // Any answer will do: the worker is up.
  let exited = false;
  child.status.then(() => (exited = true));
  while (true) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      break;
    } catch {
      if (exited || Date.now() > deadline) {
        await close();
        throw new Error(`workerd did not serve (within 30 s); it printed:\n${output}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { url, pid: child.pid, inspector: `http://127.0.0.1:${inspectorPort}`, close };
}
