/**
 * Reading processes from Linux `/proc`: a process tree, resident memory (VmRSS, VmHWM) and
 * CPU time, and an RSS sampler that records the curve of a run.
 *
 * @module
 */

/** One process's memory, in bytes. */
export interface ProcMemory {
  /** Resident set size now. */
  rss: number;
  /** Peak resident set size since start or since {@link resetPeak}. */
  hwm: number;
}

/**
 * The ids of `pid` and of every process below it.
 *
 * @param pid The root process.
 * @returns The root first, then its descendants.
 *
 * @example
 * ```ts ignore
 * import { processTree } from "./procs.ts";
 * console.log(processTree(Deno.pid));
 * ```
 */
export function processTree(pid: number): number[] {
  const children = new Map<number, number[]>();
  for (const entry of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(entry.name)) continue;
    const stat = readStat(Number(entry.name));
    if (!stat) continue;
    const list = children.get(stat.ppid) ?? [];
    list.push(Number(entry.name));
    children.set(stat.ppid, list);
  }
  const found: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const next = queue.shift()!;
    found.push(next);
    queue.push(...(children.get(next) ?? []));
  }
  return found;
}

/**
 * The processes under `root` (itself included) whose command name matches.
 *
 * @param root The root process.
 * @param name The command name (`/proc/<pid>/comm`), such as `workerd`.
 * @returns Their ids.
 *
 * @example
 * ```ts ignore
 * import { findProcesses } from "./procs.ts";
 * const workerd = findProcesses(wranglerPid, "workerd");
 * ```
 */
export function findProcesses(root: number, name: string): number[] {
  return processTree(root).filter((pid) => readStat(pid)?.comm === name);
}

/**
 * A process's command name, parent and CPU time.
 *
 * @param pid The process.
 * @returns The fields, or `undefined` when the process is gone.
 */
export function readStat(
  pid: number,
): { comm: string; ppid: number; cpuSeconds: number } | undefined {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/stat`);
  } catch {
    return undefined;
  }
  const close = text.lastIndexOf(")");
  const comm = text.slice(text.indexOf("(") + 1, close);
  const fields = text.slice(close + 2).split(" ");
  // Fields after the name, from state (index 0): ppid is 1, utime 11, stime 12 (in ticks).
  return {
    comm,
    ppid: Number(fields[1]),
    cpuSeconds: (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS,
  };
}

/** Linux's USER_HZ, the unit of CPU times in /proc; 100 on every mainstream build. */
const CLOCK_TICKS = 100;

/**
 * The sum of the CPU seconds (user and system) of some processes.
 *
 * @param pids The processes; those that are gone count 0.
 * @returns The CPU seconds.
 *
 * @example
 * ```ts ignore
 * import { cpuSeconds } from "./procs.ts";
 * const before = cpuSeconds([Deno.pid]);
 * ```
 */
export function cpuSeconds(pids: number[]): number {
  return pids.reduce((sum, pid) => sum + (readStat(pid)?.cpuSeconds ?? 0), 0);
}

/**
 * A process's resident memory.
 *
 * @param pid The process.
 * @returns VmRSS and VmHWM in bytes, or zeros when the process is gone.
 *
 * @example
 * ```ts ignore
 * import { readMemory } from "./procs.ts";
 * console.log(readMemory(Deno.pid).rss);
 * ```
 */
export function readMemory(pid: number): ProcMemory {
  let text: string;
  try {
    text = Deno.readTextFileSync(`/proc/${pid}/status`);
  } catch {
    return { rss: 0, hwm: 0 };
  }
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(text)?.[1]);
  return { rss: kb("VmRSS") * 1024, hwm: kb("VmHWM") * 1024 };
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
 * import { resetPeak } from "./procs.ts";
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
 * known.
 *
 * @param pids The processes.
 * @param intervalMs The sampling period.
 * @returns `stop()`, which ends sampling and returns the trace.
 *
 * @example
 * ```ts ignore
 * import { sampleRss } from "./procs.ts";
 * const sampler = sampleRss([pid]);
 * await upload();
 * const trace = sampler.stop();
 * ```
 */
export function sampleRss(pids: number[], intervalMs = 20): { stop(): RssTrace } {
  const hwmReset = pids.every(resetPeak);
  const started = performance.now();
  const sum = () => pids.reduce((n, pid) => n + readMemory(pid).rss, 0);
  const startRss = sum();
  const samples: [number, number][] = [[0, startRss]];
  let peakRss = startRss;
  const timer = setInterval(() => {
    const rss = sum();
    peakRss = Math.max(peakRss, rss);
    samples.push([Math.round(performance.now() - started), rss]);
  }, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      const rss = sum();
      peakRss = Math.max(peakRss, rss);
      samples.push([Math.round(performance.now() - started), rss]);
      const endHwm = pids.reduce((n, pid) => n + readMemory(pid).hwm, 0);
      return { startRss, peakRss, endHwm, hwmReset, samples };
    },
  };
}

/**
 * Starts counting the CPU time of named groups of processes.
 *
 * @param groups Process ids by group name, such as `{client: [Deno.pid], s3: [pid]}`.
 * @returns `stop()`, which gives each group's CPU seconds since the start.
 *
 * @example
 * ```ts ignore
 * import { countCpu } from "./procs.ts";
 * const cpu = countCpu({ client: [Deno.pid] });
 * await work();
 * console.log(cpu.stop().client);
 * ```
 */
export function countCpu(groups: Record<string, number[]>): { stop(): Record<string, number> } {
  const before = Object.fromEntries(
    Object.entries(groups).map(([name, pids]) => [name, cpuSeconds(pids)]),
  );
  return {
    stop: () =>
      Object.fromEntries(
        Object.entries(groups).map(([name, pids]) => [name, cpuSeconds(pids) - before[name]]),
      ),
  };
}

/**
 * The 1-minute load average, a hint of how busy the machine was.
 *
 * @returns The load average, or NaN where /proc/loadavg is missing.
 */
export function loadAverage(): number {
  try {
    return Number(Deno.readTextFileSync("/proc/loadavg").split(" ")[0]);
  } catch {
    return NaN;
  }
}
