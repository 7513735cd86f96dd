/**
 * The relay that `deno task start` puts in front of workerd: a TCP proxy (`testing/proxy.ts`,
 * `answerContinue`) that answers `Expect: 100-continue`, which workerd never does, and passes
 * every byte on. It runs in a thread of its own, so that moving a large body does not compete
 * with the local S3 and Participant Service, which share the start command's main thread.
 *
 * @module
 */

import type { TcpProxy } from "./proxy.ts";

/** Options of {@link startRelay}. */
export interface RelayOptions {
  /** Where connections go (workerd). */
  target: { hostname: string; port: number };
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** `0` picks a free port; a port in use is an error. @default {0} */
  port?: number;
}

/** A running relay. */
export interface Relay {
  /** `http://host:port` of the relay. */
  url: string;
  /** Its port. */
  port: number;
  /** What it has done so far (`continued`: `100 Continue` answers sent). */
  stats(): Promise<TcpProxy["stats"]>;
  /** Stops listening, cuts every open connection and ends the thread. */
  close(): Promise<void>;
}

/**
 * Starts the relay in a worker thread.
 *
 * @param options Where it listens and where it forwards.
 * @returns The running relay.
 * @throws {Error} When it cannot listen (a port in use among others).
 *
 * @example
 * ```ts ignore
 * import { startRelay } from "./relay.ts";
 * const relay = await startRelay({ target: { hostname: "127.0.0.1", port: 41234 }, port: 8787 });
 * await relay.close();
 * ```
 */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const thread = new Worker(new URL("./_relay_worker.ts", import.meta.url).href, {
    type: "module",
  });
  // One question at a time: each answer settles the oldest waiter.
  const waiters: { resolve: (data: Answer) => void; reject: (error: Error) => void }[] = [];
  thread.onmessage = (event: MessageEvent<Answer>) => {
    const waiter = waiters.shift();
    if (event.data.kind === "error") waiter?.reject(new Error(event.data.message));
    else waiter?.resolve(event.data);
  };
  thread.onerror = (event) => {
    event.preventDefault();
    for (const waiter of waiters.splice(0)) {
      waiter.reject(new Error(`the relay failed: ${event.message}`));
    }
  };
  let chain: Promise<unknown> = Promise.resolve();
  const ask = (message: unknown): Promise<Answer> => {
    const asked = chain.then(() =>
      new Promise<Answer>((resolve, reject) => {
        waiters.push({ resolve, reject });
        thread.postMessage(message);
      })
    );
    chain = asked.catch(() => {});
    return asked;
  };
  const hostname = options.hostname ?? "127.0.0.1";
  let started: Answer;
  try {
    started = await ask({
      kind: "start",
      target: options.target,
      hostname,
      port: options.port ?? 0,
    });
  } catch (error) {
    thread.terminate();
    throw error;
  }
  const { url, port } = started as Extract<Answer, { kind: "started" }>;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    stats: async () => ((await ask({ kind: "stats" })) as Extract<Answer, { kind: "stats" }>).stats,
    close: () =>
      closing ??= ask({ kind: "close" }).then(
        () => thread.terminate(),
        () => thread.terminate(),
      ),
  };
}

/** A message from the relay's thread. */
type Answer =
  | { kind: "started"; url: string; port: number }
  | { kind: "stats"; stats: TcpProxy["stats"] }
  | { kind: "closed" }
  | { kind: "error"; message: string };
