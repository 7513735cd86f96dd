/**
 * Full garbage collections on demand, through a runtime's inspector (the Chrome DevTools
 * Protocol over WebSocket), for memory measurements that tell live memory from garbage the
 * collector has not yet come back for.
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

async function withSession(
  url: string,
  timeoutMs: number,
  use: (send: Send) => Promise<void>,
): Promise<void> {
  const socket = new WebSocket(url);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  socket.onmessage = (event) => {
    // Snapshot chunks (events without an id) are dropped unread.
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
  const send: Send = (method, params = {}) => {
    const id = ++nextId;
    socket.send(JSON.stringify({ id, method, params }));
    return new Promise((resolve, reject) => pending.set(id, { resolve, reject }));
  };
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    await Promise.race([
      use(send),
      new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`no garbage collection from ${url} within ${timeoutMs} ms`)),
          timeoutMs,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
    socket.onclose = null;
    socket.close();
  }
}
