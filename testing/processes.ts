/**
 * Processes as Linux `/proc` shows them: the tree below a process, its command line, resident
 * memory (VmRSS, VmHWM) and CPU time, the TCP connections it holds, and an RSS sampler that
 * records the curve of a run; and stopping a child with everything below it. The one place the
 * suite, the benchmark and the soak read them.
 *
 * @module
 */

/** A process's resident memory, from `/proc/<pid>/status`, in bytes. */
export interface ProcessMemory {
  /** Resident set size now (`VmRSS`). */
  rss: number;
  /** The highest resident set size so far (`VmHWM`), or since {@link resetPeak}. */
  peak: number;
}

/** What `/proc/<pid>/stat` tells of a process. */
export interface ProcessStat {
  /** The command name (`comm`), such as `workerd`. */
  comm: string;
  /** The state letter: `R`, `S`, `Z` (a zombie), ... */
  state: string;
  /** The parent's id. */
  ppid: number;
  /** CPU time so far, user and system, in seconds. */
  cpuSeconds: number;
  /**
   * CPU time of its children that have ended and been waited for (such as each `curl` a
   * benchmark ran), user and system, in seconds.
   */
  childrenCpuSeconds: number;
}

/** Linux's USER_HZ, the unit of CPU times in /proc; 100 on every mainstream build. */
const CLOCK_TICKS = 100;

/**
 * Reads a process's command name, state, parent and CPU time.
 *
 * @param pid The process.
 * @returns The fields, or `undefined` when the process is gone.
 *
 * @example
 * ```ts ignore
 * import { readStat } from "./processes.ts";
 * console.log(readStat(Deno.pid)?.comm); // "deno"
 * ```
 */
export function readStat(pid: number): ProcessStat | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  // pid (comm) state ppid ...; comm may hold spaces and parentheses.
  const close = text.lastIndexOf(")");
  const fields = text.slice(close + 2).split(" ");
  // Fields after the name, from state (index 0): ppid is 1, utime 11, stime 12, cutime 13,
  // cstime 14 (in ticks).
  return {
    comm: text.slice(text.indexOf("(") + 1, close),
    state: fields[0],
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
    childrenCpuSeconds: (Number(fields[13]) + Number(fields[14])) / CLOCK_TICKS,
  };
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
  const state = readStat(pid)?.state;
  return state !== undefined && state !== "Z";
}

/**
 * Lists every process below `pid` (children, their children, ...) with its command name.
 *
 * @param pid The ancestor.
 * @returns The descendants' ids and names, nearest first.
 *
 * @example
 * ```ts ignore
 * const workerd = descendantProcesses(child.pid).filter((p) => p.name === "workerd");
 * ```
 */
export function descendantProcesses(pid: number): { pid: number; name: string }[] {
  const children = new Map<number, { pid: number; name: string }[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push({ pid: Number(entry.name), name: stat.comm });
    children.set(stat.ppid, list);
  }
  const found: { pid: number; name: string }[] = [];
  const queue = [...(children.get(pid) ?? [])];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next.pid) ?? []));
  }
  return found;
}

/**
 * The processes under `root` (itself included) whose command name matches.
 *
 * @param root The root process.
 * @param name The command name, such as `workerd`.
 * @returns Their ids.
 *
 * @example
 * ```ts ignore
 * import { findProcesses } from "./processes.ts";
 * const workerd = findProcesses(wranglerPid, "workerd");
 * ```
 */
export function findProcesses(root: number, name: string): number[] {
  const own = readStat(root)?.comm === name ? [root] : [];
  return [...own, ...descendantProcesses(root).filter((p) => p.name === name).map((p) => p.pid)];
}

/**
 * Stops a child process: SIGTERM (so that it stops what it started), then, if it lingers past
 * `graceMs`, SIGKILL for it and for every process that was below it.
 *
 * @param child The process.
 * @param graceMs How long it may take to stop on its own.
 * @returns Its exit status.
 *
 * @example
 * ```ts ignore
 * import { stopProcess } from "./processes.ts";
 * const child = new Deno.Command("sleep", { args: ["60"] }).spawn();
 * await stopProcess(child);
 * ```
 */
export async function stopProcess(
  child: Deno.ChildProcess,
  graceMs = 10_000,
): Promise<Deno.CommandStatus> {
  const below = descendantProcesses(child.pid);
  try {
    child.kill("SIGTERM");
  } catch { /* already gone */ }
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stopped = await Promise.race([
    child.status.then(() => true),
    new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), graceMs))),
  ]);
  clearTimeout(timer);
  if (!stopped) {
    for (const pid of [child.pid, ...below.map((p) => p.pid)]) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch { /* already gone */ }
    }
  }
  return await child.status;
}

/**
 * A process's command line, its arguments joined by spaces.
 *
 * @param pid The process.
 * @returns The command line, or "" when the process is gone.
 *
 * @example
 * ```ts ignore
 * import { commandLine } from "./processes.ts";
 * commandLine(pid).includes("--inspector-addr");
 * ```
 */
export function commandLine(pid: number): string {
  try {
    return Deno.readTextFileSync(`/proc/${pid}/cmdline`).replaceAll("\0", " ");
  } catch {
    return "";
  }
}

/**
 * Reads a process's resident memory.
 *
 * @param pid The process id.
 * @returns Current and peak resident set size.
 * @throws {Error} When the process is gone: a reading of nothing is never taken for a small one.
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
 * Resets a process's peak RSS (VmHWM) to its current RSS, by writing 5 to
 * `/proc/<pid>/clear_refs` (Linux 4.0 and later; needs permission over the process).
 *
 * @param pid The process.
 * @returns Whether the reset took.
 *
 * @example
 * ```ts ignore
 * import { resetPeak } from "./processes.ts";
 * resetPeak(workerdPid);
 * ```
 */
export function resetPeak(pid: number): boolean {
  try {
    Deno.writeTextFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** The RSS curve of some processes over a run. */
export interface RssTrace {
  /** The summed RSS when sampling began, in bytes. */
  startRss: number;
  /** The highest summed RSS sampled, in bytes. */
  peakRss: number;
  /** The summed peak RSS (VmHWM) at the end, after a reset at the start when it took. */
  endHwm: number;
  /** Whether VmHWM was reset at the start (so that `endHwm` is this run's peak). */
  hwmReset: boolean;
  /** [milliseconds since start, summed RSS in bytes] every sample. */
  samples: [number, number][];
}

/**
 * Samples the summed RSS of some processes every `intervalMs` until stopped, after
 * resetting their VmHWM, so that both the sampled peak and the kernel's exact peak are
 * known. A process that has gone counts 0.
 *
 * @param pids The processes.
 * @param intervalMs The sampling period.
 * @returns `stop()`, which ends sampling and returns the trace.
 *
 * @example
 * ```ts ignore
 * import { sampleRss } from "./processes.ts";
 * const sampler = sampleRss([pid]);
 * await upload();
 * const trace = sampler.stop();
 * ```
 */
export function sampleRss(pids: number[], intervalMs = 20): { stop(): RssTrace } {
  const hwmReset = pids.every(resetPeak);
  const started = performance.now();
  const sum = (field: keyof ProcessMemory) =>
    pids.reduce((n, pid) => {
      try {
        return n + processMemory(pid)[field];
      } catch {
        return n; // gone
      }
    }, 0);
  const startRss = sum("rss");
  const samples: [number, number][] = [[0, startRss]];
  let peakRss = startRss;
  const timer = setInterval(() => {
    const rss = sum("rss");
    peakRss = Math.max(peakRss, rss);
    samples.push([Math.round(performance.now() - started), rss]);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = sum("rss");
      peakRss = Math.max(peakRss, rss);
      samples.push([Math.round(performance.now() - started), rss]);
      return { startRss, peakRss, endHwm: sum("peak"), hwmReset, samples };
    },
  };
}

/**
 * Starts counting the CPU time of named groups of processes.
 *
 * @param groups Process ids by group name, such as `{client: [Deno.pid], s3: [pid]}`.
 * @returns `stop()`, which gives each group's CPU seconds since the start (a process that has
 * gone counts 0).
 *
 * @example
 * ```ts ignore
 * import { countCpu } from "./processes.ts";
 * const cpu = countCpu({ client: [Deno.pid] });
 * await work();
 * console.log(cpu.stop().client);
 * ```
 */
export function countCpu(groups: Record<string, number[]>): { stop(): Record<string, number> } {
  const seconds = (pids: number[]) =>
    pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuSeconds ?? 0), 0);
  const before = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, seconds(pids)]),
  );
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => [name, seconds(pids) - before[name]]),
      ),
  };
}

/**
 * The 1-minute load average, a hint of how busy the machine was.
 *
 * @returns The load average, or NaN where /proc/loadavg is missing.
 *
 * @example
 * ```ts ignore
 * import { loadAverage } from "./processes.ts";
 * console.log(`load ${loadAverage()}`);
 * ```
 */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}

/** One TCP connection of a process, from `/proc/net/tcp`. */
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
 * a pooled one to an upstream.
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
