/**
 * The worker-thread side of `testing/relay.ts`: runs one `answerContinue` proxy and answers the
 * host's messages (`start`, `stats`, `close`).
 *
 * @module
 */

import { startProxy, type TcpProxy } from "./proxy.ts";

/** A message from the host. */
type Ask =
  | { kind: "start"; target: { hostname: string; port: number }; hostname: string; port: number }
  | { kind: "stats" }
  | { kind: "close" };

let proxy: TcpProxy | undefined;
const scope = self as unknown as Worker;

scope.onmessage = async (event: MessageEvent<Ask>) => {
  const ask = event.data;
  try {
    if (ask.kind === "start") {
      proxy = startProxy({
        target: ask.target,
        hostname: ask.hostname,
        port: ask.port,
        answerContinue: true,
      });
      scope.postMessage({ kind: "started", url: proxy.url, port: proxy.port });
    } else if (ask.kind === "stats") {
      scope.postMessage({ kind: "stats", stats: { ...proxy?.stats } });
    } else {
      await proxy?.close();
      scope.postMessage({ kind: "closed" });
    }
  } catch (error) {
    scope.postMessage({
      kind: "error",
      message: error instanceof Error ? error.message : `${error}`,
    });
  }
};
