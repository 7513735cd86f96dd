/**
 * Cold start: how long from launching the runtime with the worker to the first `/healthz`
 * answer. Bare workerd with the deployable bundle (the number that matters at the edge),
 * and, for what a developer waits, `wrangler dev` and the Deno entry point.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { spread } from "../stats.ts";
import { findWorkerdBinary } from "../machine.ts";
import { freePort } from "../../testing/ports.ts";
import { buildProductWorker, type ProductWorker } from "../product.ts";
import { startWorker } from "../../testing/worker.ts";
import type { Launcher, Runtime } from "../workers.ts";

/**
 * Runs the cold-start figure.
 *
 * @param plan How many starts.
 * @param log Progress lines.
 * @returns Rows: bare workerd, wrangler dev and Deno.
 */
export async function coldStartFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const dir = await Deno.makeTempDir({ prefix: "bench-coldstart-" });
  try {
    const product = await buildProductWorker(dir);
    const binary = await findWorkerdBinary();
    if (!binary) throw new Error("no workerd binary under node_modules (install wrangler first)");
    const bare: number[] = [];
    for (let i = 0; i < plan.coldStarts; i++) {
      bare.push(await bareWorkerdStart(binary, product, dir));
      log(`coldstart workerd #${i + 1}: ${bare.at(-1)!.toFixed(0)} ms`);
    }
    const launches = [
      { key: "miniflare", label: "Miniflare (workerd)", runtime: "workerd", launcher: "miniflare" },
      {
        key: "wrangler",
        label: "wrangler dev (workerd)",
        runtime: "workerd",
        launcher: "wrangler",
      },
      { key: "deno", label: "Deno entry (worker/deno.ts)", runtime: "deno", launcher: "miniflare" },
    ] as const;
    const dev: Record<string, number[]> = { miniflare: [], wrangler: [], deno: [] };
    for (let i = 0; i < plan.wranglerColdStarts; i++) {
      for (const launch of launches) {
        dev[launch.key].push(await helperStart(launch.runtime, launch.launcher));
        log(`coldstart ${launch.key} #${i + 1}: ${dev[launch.key].at(-1)!.toFixed(0)} ms`);
      }
    }
    const bareSpread = spread(bare);
    const rows: Row[] = [{
      figure: "coldstart",
      measure: "workerd with the bundle → first /healthz",
      result: `median ${bareSpread.median.toFixed(0)} ms (min ${bareSpread.min.toFixed(0)}, max ${
        bareSpread.max.toFixed(0)
      }, n=${bareSpread.n})`,
      target: "report median",
      verdict: "info",
    }];
    for (const launch of launches) {
      const s = spread(dev[launch.key]);
      rows.push({
        figure: "coldstart",
        measure: `${launch.label}: launch → first /healthz`,
        result: `median ${s.median.toFixed(0)} ms (min ${s.min.toFixed(0)}, max ${
          s.max.toFixed(0)
        }, n=${s.n})`,
        target: "report median",
        verdict: "info",
      });
    }
    return {
      figure: "coldstart",
      rows,
      notes: [
        "Bare workerd: the deployable script from `wrangler deploy --dry-run --minify` is " +
        "served by the workerd binary wrangler installs, from a generated config " +
        "(`workerd serve`, the wrangler config's compatibility date, flags and vars); the " +
        "clock runs from the spawn to the first `GET /healthz` answer, polled every 2 ms. " +
        "Miniflare, `wrangler dev` and the Deno entry are timed from the call to the test " +
        "helper that starts them (`testing/worker.ts`, which waits until they are ready) to " +
        "the first `/healthz` answer: what a developer waits for.",
      ],
      data: { bare, ...dev, product: product.description },
    };
  } finally {
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** One start of bare workerd serving the product script; milliseconds to the first answer. */
async function bareWorkerdStart(
  binary: string,
  product: ProductWorker,
  dir: string,
): Promise<number> {
  const port = freePort();
  const config = `${dir}/coldstart.capnp`;
  await Deno.copyFile(product.script, `${dir}/worker.js`);
  await Deno.writeTextFile(config, workerdConfig(product, port));
  const started = performance.now();
  const child = new Deno.Command(binary, {
    args: ["serve", config],
    stdout: "null",
    stderr: "null",
    stdin: "null",
  }).spawn();
  try {
    return await firstAnswer(`http://127.0.0.1:${port}/healthz`, started, 30_000);
  } finally {
    child.kill("SIGKILL");
    await child.status;
  }
}

/** One start through the test helper; milliseconds to the first `/healthz` answer. */
async function helperStart(runtime: Runtime, launcher: Launcher): Promise<number> {
  const started = performance.now();
  const worker = await startWorker({
    runtime,
    launcher,
    participantUrl: "http://127.0.0.1:9",
    uploadHosts: ["127.0.0.1:9"],
  });
  try {
    return await firstAnswer(`${worker.url}/healthz`, started, 60_000);
  } finally {
    await worker.close();
  }
}

async function firstAnswer(url: string, started: number, timeoutMs: number): Promise<number> {
  while (performance.now() - started < timeoutMs) {
    try {
      const response = await fetch(url);
      await response.body?.cancel();
      return performance.now() - started;
    } catch {
      await new Promise((r) => setTimeout(r, 2));
    }
  }
  throw new Error(`no answer from ${url} within ${timeoutMs} ms`);
}

/** A workerd config serving the product script on a loopback port. */
function workerdConfig(product: ProductWorker, port: number): string {
  const text = (s: string) => JSON.stringify(s);
  const bindings = Object.entries(product.vars)
    .map(([name, value]) => `(name = ${text(name)}, text = ${text(value)})`).join(", ");
  const flags = product.compatibilityFlags.map(text).join(", ");
  return `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .mainWorker)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const mainWorker :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = ${text(product.compatibilityDate)},
  compatibilityFlags = [${flags}],
  bindings = [${bindings}],
);
`;
}
