/**
 * What the benchmark ran on: CPU, cores, memory, kernel and tool versions.
 *
 * @module
 */

import { WRANGLER } from "../testing/wrangler.ts";

/**
 * Describes the machine and the tools, for the results to say what they were measured on.
 *
 * @returns Facts by name.
 *
 * @example
 * ```ts ignore
 * import { describeMachine } from "./machine.ts";
 * console.log(await describeMachine());
 * ```
 */
export async function describeMachine(): Promise<Record<string, string | number>> {
  const read = (path: string) => {
    try {
      return Deno.readTextFileSync(path);
    } catch {
      return "";
    }
  };
  const cpu = /^model name\s*:\s*(.+)$/m.exec(read("/proc/cpuinfo"))?.[1] ?? "unknown";
  const memKb = Number(/^MemTotal:\s+(\d+) kB/m.exec(read("/proc/meminfo"))?.[1] ?? 0);
  const os = /^PRETTY_NAME="?([^"\n]+)"?/m.exec(read("/etc/os-release"))?.[1] ?? Deno.build.os;
  return {
    cpu,
    cores: navigator.hardwareConcurrency,
    memory: `${(memKb / 1024 / 1024).toFixed(1)} GiB`,
    os,
    kernel: Deno.osRelease(),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    wrangler: WRANGLER.replace("npm:wrangler@", ""),
    workerd: await workerdVersion(),
    "load average (1/5/15 min) at start": read("/proc/loadavg").split(" ").slice(0, 3).join(" "),
  };
}

async function workerdVersion(): Promise<string> {
  const binary = await findWorkerdBinary();
  if (!binary) return "not installed";
  try {
    const out = await new Deno.Command(binary, { args: ["--version"], stdout: "piped" }).output();
    return new TextDecoder().decode(out.stdout).trim();
  } catch {
    return "unknown";
  }
}

/**
 * The workerd binary that wrangler installed under `node_modules`.
 *
 * @returns Its path, or `undefined` when wrangler has not been installed yet.
 */
export async function findWorkerdBinary(): Promise<string | undefined> {
  const base = new URL("../node_modules/.deno/", import.meta.url).pathname;
  try {
    for await (const entry of Deno.readDir(base)) {
      if (!entry.name.startsWith("@cloudflare+workerd-linux-64@")) continue;
      const path = `${base}${entry.name}/node_modules/@cloudflare/workerd-linux-64/bin/workerd`;
      try {
        await Deno.stat(path);
        return path;
      } catch { /* not here */ }
    }
  } catch { /* no node_modules yet */ }
  return undefined;
}
