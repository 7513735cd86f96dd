/**
 * A runtime's inspector (the Chrome DevTools Protocol over WebSocket), for measurements:
 * full garbage collections on demand, for memory figures that tell live memory from garbage
 * the collector has not yet come back for; and CPU profiles of what a piece of work cost.
 *
 * @module
 */

/** How a collection is asked for. */
export type CollectionMethod =
  /** `HeapProfiler.collectGarbage` (Deno answers it). */
  | "collect"
  /**
   * `HeapProfiler.takeHeapSnapshot`: V8 collects all garbage before it writes a snapshot.
   * workerd's inspector never answers `collectGarbage`, but it does take snapshots.
   */
  | "snapshot";

/** One inspectable isolate, as `/json/list` describes it. */
interface InspectorTarget {
  id: string;
  webSocketDebuggerUrl: string;
}

/**
 * Asks every isolate behind an inspector for a full garbage collection, waits until each has
 * done it, and then reads what stays live in their JavaScript heaps (`Runtime.getHeapUsage`:
 * the V8 heap's used size plus the ArrayBuffer backing stores outside it).
 *
 * @param inspector The inspector's base URL, such as `http://127.0.0.1:9229`.
 * @param method How to ask (see {@link CollectionMethod}).
 * @param timeoutMs How long one isolate may take.
 * @returns The live heap bytes of all the isolates, after the collection.
 * @throws {Error} When an isolate does not answer in time.
 *
 * @example
 * ```ts ignore
 * const liveHeap = await collectGarbage(`http://127.0.0.1:${inspectorPort}`, "snapshot");
 * const rss = processMemory(pid).rss;
 * ```
 */
export async function collectGarbage(
  inspector: string,
  method: CollectionMethod,
  timeoutMs = 30_000,
): Promise<number> {
  const response = await fetch(`${inspector}/json/list`);
  const targets = (await response.json()) as InspectorTarget[];
  let live = 0;
  for (const target of targets) {
    await withSession(target.webSocketDebuggerUrl, timeoutMs, async (send) => {
      if (method === "collect") {
        await send("HeapProfiler.collectGarbage");
      } else {
        await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      }
      const { result } = await send("Runtime.getHeapUsage") as { result: HeapUsage };
      live += result.usedSize + (result.backingStorageSize ?? 0);
    });
  }
  return live;
}

/** What `Runtime.getHeapUsage` answers. */
interface HeapUsage {
  usedSize: number;
  totalSize: number;
  backingStorageSize?: number;
}

type Send = (method: string, params?: Record<string, unknown>) => Promise<unknown>;

/** An open inspector session. */
interface Session {
  send: Send;
  close(): void;
}

async function openSession(url: string): Promise<Session> {
  const socket = new WebSocket(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  socket.onmessage = (event) => {
    // Events (snapshot chunks among them) have no id and are dropped unread.
    const text = String(event.data);
    if (!text.startsWith('{"id"')) return;
    const message = JSON.parse(text) as { id: number; error?: { message: string } };
    const waiter = pending.get(message.id);
    if (!waiter) return;
    pending.delete(message.id);
    if (message.error) waiter.reject(new Error(message.error.message));
    else waiter.resolve(message);
  };
  socket.onclose = () => failAll(new Error(`the inspector closed ${url}`));
  await new Promise<void>((resolve, reject) => {
    socket.onopen = () => resolve();
    socket.onerror = () => reject(new Error(`cannot reach the inspector at ${url}`));
  });
  return {
    send: (method, params = {}) => {
      const id = ++nextId;
      socket.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
    },
    close() {
      socket.onclose = null;
      socket.close();
    },
  };
}

async function withSession(
  url: string,
  timeoutMs: number,
  use: (send: Send) => Promise<void>,
): Promise<void> {
  const session = await openSession(url);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      use(session.send),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no garbage collection from ${url} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    session.close();
  }
}

/** A V8 CPU profile (`Profiler.stop`), as much of it as is read here. */
export interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  /** The node each sample landed in. */
  samples: number[];
  /** Microseconds before each sample. */
  timeDeltas: number[];
}

/** Where a profile's sampled time went, in milliseconds. */
export interface CpuTime {
  /** In JavaScript functions the profiler could name. */
  js: number;
  /** In V8's garbage collector. */
  gc: number;
  /**
   * In the isolate, outside any function the profiler could name (`(program)`): the runtime's
   * own work for the isolate, and, in workerd, JavaScript too, since V8's sampler cannot walk
   * workerd's stacks and files its JavaScript samples here.
   */
  program: number;
  /** Marked idle, or the gaps between samples while the isolate was not running. */
  idle: number;
}
/**
 * Records CPU profiles of every isolate behind an inspector while `work` runs.
 *
 * @param inspector The inspector's base URL, such as `http://127.0.0.1:9229`.
 * @param work The work to profile.
 * @param intervalUs The sampling interval in microseconds.
 * @returns One profile per isolate.
 *
 * @example
 * ```ts ignore
 * const [profile] = await profileCpu(`http://127.0.0.1:${port}`, () => upload());
 * console.log(cpuTime(profile).js);
 * ```
 */
export async function profileCpu(
  inspector: string,
  work: () => Promise<unknown>,
  intervalUs = 100,
): Promise<CpuProfile[]> {
  const response = await fetch(`${inspector}/json/list`);
  const targets = (await response.json()) as InspectorTarget[];
  const sessions: Session[] = [];
  try {
    for (const target of targets) {
      const session = await openSession(target.webSocketDebuggerUrl);
      sessions.push(session);
      await session.send("Profiler.enable");
      await session.send("Profiler.setSamplingInterval", { interval: intervalUs });
      await session.send("Profiler.start");
    }
    await work();
    const profiles: CpuProfile[] = [];
    for (const session of sessions) {
      const { result } = await session.send("Profiler.stop") as { result: { profile: CpuProfile } };
      profiles.push(result.profile);
    }
    return profiles;
  } finally {
    for (const session of sessions) session.close();
  }
}

/**
 * Sums a CPU profile's samples by kind. V8 samples an isolate only while it runs: a sample
 * that comes after a gap longer than `maxGapUs` stands for one sampling interval of work (the
 * gap was idle time), not for the whole gap.
 *
 * @param profile The profile.
 * @param intervalUs The sampling interval the profile was recorded with.
 * @param maxGapUs The longest gap still counted as it is.
 * @returns Milliseconds in JavaScript, in the collector, in `(program)` and idle.
 *
 * @example
 * ```ts ignore
 * const { js, gc, program } = cpuTime(profile, 100);
 * ```
 */
export function cpuTime(
  profile: CpuProfile,
  intervalUs = 100,
  maxGapUs = 10 * intervalUs,
): CpuTime {
  const kindOf = new Map<number, keyof CpuTime>();
  for (const node of profile.nodes) {
    const name = node.callFrame.functionName;
    kindOf.set(
      node.id,
      name === "(idle)" || name === "(root)"
        ? "idle"
        : name === "(program)"
        ? "program"
        : name === "(garbage collector)"
        ? "gc"
        : "js",
    );
  }
  const time: CpuTime = { js: 0, gc: 0, program: 0, idle: 0 };
  profile.samples.forEach((node, i) => {
    const kind = kindOf.get(node) ?? "js";
    const delta = profile.timeDeltas[i] ?? 0;
    if (kind === "idle" || delta <= maxGapUs) {
      time[kind] += delta / 1000;
    } else {
      time[kind] += intervalUs / 1000;
      time.idle += (delta - intervalUs) / 1000;
    }
  });
  return time;
}
