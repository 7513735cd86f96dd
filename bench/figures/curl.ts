/**
 * `curl -T` with curl's defaults: the README's own upload line, timed by curl itself, through
 * the worker in workerd as `deno task start` runs it (behind the relay that answers
 * `Expect: 100-continue`), the same with `-H "Expect:"`, through workerd alone (no relay),
 * through a control worker in workerd that only passes the body on (the hop alone), and
 * straight to a pre-signed S3 URL; interleaved, median of the runs.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { countCpu, findProcesses, loadAverage, readStat } from "../../testing/processes.ts";
import { launchStack } from "../stack.ts";
import { median, spread } from "../stats.ts";
import { bodyChunks } from "../body.ts";
import { prepareDirect, type UploadOutcome, verifyUpload } from "../uploads.ts";
import { mibText } from "./throughput.ts";
import { type RunningWorkerd, startWorkerd, type WorkerdOptions } from "../../testing/workerd.ts";
import { workerBundle } from "../../testing/worker.ts";

const TARGET_RATIO = 0.9;

/** The ways the file goes up. */
const PATHS = ["direct", "relay", "relay-no-expect", "bare", "bare-no-expect", "pipe"] as const;
type Path = typeof PATHS[number];

const LABEL: Record<Exclude<Path, "direct">, string> = {
  relay: "via workerd + relay (deno task start), curl's defaults",
  "relay-no-expect": 'via workerd + relay, -H "Expect:"',
  bare: "via workerd alone (no relay), curl's defaults",
  "bare-no-expect": 'via workerd alone, -H "Expect:"',
  pipe: 'via workerd running only fetch(url, {body: request.body}) (the hop alone), -H "Expect:"',
};

/** The control worker: passes the body on to a pre-signed URL made beforehand. */
const PIPE_WORKER = new URL("../pipe_worker.js", import.meta.url).pathname;

/** One timed `curl -T`. */
interface Sample {
  path: Path;
  run: number;
  /** curl's `time_total`, in ms. */
  ms: number;
  /**
   * CPU time during the upload by process, in ms (from /proc, in 10 ms ticks): `curl`; `bench`,
   * this process (the relay's thread, Miniflare's Node side); `workerd`; `service`; `s3`.
   */
  cpu: Record<string, number>;
  error?: string;
}

/**
 * Runs the figure.
 *
 * @param plan The size and the runs.
 * @param log Progress lines.
 * @returns Rows: each worker path against the direct `PUT`.
 */
export async function curlFigure(plan: Plan, log: (line: string) => void): Promise<FigureResult> {
  const size = plan.curlSize;
  const seed = 7;
  const stack = await launchStack({ maxAttachmentBytes: size });
  const workers: RunningWorkerd[] = [];
  const out = new URL("../out/", import.meta.url).pathname;
  await Deno.mkdir(out, { recursive: true });
  const file = await Deno.makeTempFile({ dir: out, prefix: "curl-", suffix: ".pdf" });
  const samples: Sample[] = [];
  const loadBefore = loadAverage();
  let continued = 0;
  try {
    const handle = await Deno.open(file, { write: true });
    for (const chunk of bodyChunks(size, seed)) await handle.write(chunk);
    // On disk before the first timed upload: the kernel would otherwise write it back 30 s
    // later, in the middle of the runs, competing with the local S3's own writes.
    await handle.syncData();
    handle.close();
    const scriptPath = await workerBundle();
    const vars = {
      PARTICIPANT_ENDPOINT: stack.participantUrl,
      UPLOAD_HOSTS: new URL(stack.s3PublicUrl).host,
      MAX_ATTACHMENT_BYTES: String(size),
    };
    // Each workerd's processes, told apart by the ones that appear as it starts.
    const launch = async (options: WorkerdOptions) => {
      const before = new Set(findProcesses(Deno.pid, "workerd"));
      const worker = await startWorkerd(options);
      workers.push(worker);
      return { worker, pids: findProcesses(Deno.pid, "workerd").filter((p) => !before.has(p)) };
    };
    const relayed = await launch({ scriptPath, vars, answerContinue: true, rateLimit: false });
    const bare = await launch({ scriptPath, vars, rateLimit: false });
    const pipe = await launch({ scriptPath: PIPE_WORKER, vars: {}, rateLimit: false });
    const chat = await stack.openChat();
    const token = ["-H", `X-Amz-Bearer: ${chat.connectionToken}`];
    /** What one upload sends, made ready outside the timing (the direct start call too). */
    const prepare = async (path: Path) => {
      if (path === "direct" || path === "pipe") {
        const prepared = await prepareDirect(stack, chat, { size, seed });
        const headers = Object.entries(prepared.headers).flatMap(([k, v]) => [
          "-H",
          `${path === "pipe" ? "x-s3-" : ""}${k}: ${v}`,
        ]);
        const args = path === "direct" ? ["-T", file, ...headers, prepared.url] : [
          "-T",
          file,
          "-H",
          "Expect:",
          ...headers,
          `${pipe.worker.url}/?to=${encodeURIComponent(prepared.url)}`,
        ];
        return { args, status: path === "direct" ? 200 : 201, id: prepared.attachmentId };
      }
      const through = path.startsWith("bare") ? bare : relayed;
      const noExpect = path.endsWith("no-expect") ? ["-H", "Expect:"] : [];
      const url = `${through.worker.url}/attachments/`;
      return { args: ["-T", file, ...token, ...noExpect, url], status: 201, id: undefined };
    };
    const upload = async (path: Path): Promise<UploadOutcome & { cpu: Record<string, number> }> => {
      const { args, status, id } = await prepare(path);
      const workerd = path === "direct"
        ? []
        : path === "pipe"
        ? pipe.pids
        : path.startsWith("bare")
        ? bare.pids
        : relayed.pids;
      const curls = readStat(Deno.pid)?.childrenCpuSeconds ?? 0;
      const cpu = countCpu({
        bench: [Deno.pid],
        workerd,
        service: [stack.servicePid],
        s3: [stack.s3Pid],
      });
      const sent = await curl(args);
      const used = cpu.stop();
      used.curl = (readStat(Deno.pid)?.childrenCpuSeconds ?? 0) - curls;
      if (!sent.error && sent.status !== status) sent.error = `answered ${sent.status}`;
      const attachmentId = id ?? attachmentIdOf(sent.body);
      const ms = Object.fromEntries(Object.entries(used).map(([k, v]) => [k, v * 1000]));
      return { ms: sent.ms, attachmentId, error: sent.error, cpu: ms };
    };
    // Warm-up, untimed: connections, JIT, the bucket.
    for (const path of PATHS) {
      const outcome = await upload(path);
      if (outcome.attachmentId) await stack.remove(outcome.attachmentId);
    }
    for (let run = 0; run < plan.curlRuns; run++) {
      const order = PATHS.map((_, i) => PATHS[(i + run) % PATHS.length]);
      for (const path of order) {
        const sent = await upload(path);
        const completed = path !== "direct" && path !== "pipe";
        const checked = await verifyUpload(stack, sent, { size, seed }, completed);
        samples.push({ path, run, ms: checked.ms, cpu: sent.cpu, error: checked.error });
        log(
          `curl ${mibText(size)} ${path} run ${run + 1}: ${checked.ms.toFixed(0)} ms${
            checked.error ? ` ERROR ${checked.error}` : ""
          }`,
        );
      }
    }
    continued = (await relayed.worker.relay?.stats())?.continued ?? 0;
  } finally {
    await Promise.allSettled(workers.map((w) => w.close()));
    await stack.close();
    await Deno.remove(file).catch(() => {});
  }
  return summarize(plan, samples, continued, loadBefore, loadAverage());
}

/** Runs curl once; its own timing, the status and the answer's body. */
async function curl(
  args: string[],
): Promise<{ ms: number; status: number; body: string; error?: string }> {
  const output = await new Deno.Command("curl", {
    args: ["-sS", "-w", "\n%{http_code} %{time_total}", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder().decode(output.stdout);
  const last = text.lastIndexOf("\n");
  const [status, seconds] = text.slice(last + 1).split(" ");
  const ms = Number(seconds) * 1000;
  const error = output.code === 0 ? undefined : new TextDecoder().decode(output.stderr).trim();
  return { ms, status: Number(status), body: text.slice(0, last), error };
}

function summarize(
  plan: Plan,
  samples: Sample[],
  continued: number,
  loadBefore: number,
  loadAfter: number,
): FigureResult {
  const size = plan.curlSize;
  const ok = (path: Path) => samples.filter((s) => s.path === path && !s.error);
  const direct = spread(ok("direct").map((s) => s.ms));
  /** Each run's own ratio (direct over the path, the two timed moments apart), min–max. */
  const perRun = (path: Path) => {
    const ratios = ok(path).flatMap((s) => {
      const same = ok("direct").find((d) => d.run === s.run);
      return same ? [same.ms / s.ms] : [];
    });
    if (!ratios.length) return "";
    return `; per run ${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)}×`;
  };
  const rows: Row[] = [];
  const target: Record<Exclude<Path, "direct">, string> = {
    relay: `≥ ${TARGET_RATIO.toFixed(2)}× direct`,
    "relay-no-expect": `≥ ${TARGET_RATIO.toFixed(2)}× direct`,
    bare: "(the stall the relay removes)",
    "bare-no-expect": "(workerd without the relay)",
    pipe: "(the extra hop's own cost)",
  };
  for (const path of ["relay", "relay-no-expect", "bare", "bare-no-expect", "pipe"] as const) {
    const through = spread(ok(path).map((s) => s.ms));
    const errors = samples.filter((s) => s.path === path && s.error).length;
    const ratio = direct.median / through.median;
    const measured = path.startsWith("relay");
    const met = errors === 0 && ratio >= TARGET_RATIO;
    rows.push({
      figure: "curl",
      measure: `curl -T ${mibText(size)} ${LABEL[path]} vs direct`,
      result: `${ratio.toFixed(2)}× (${path === "pipe" ? "pipe" : "worker"} ${ms(through)}, ` +
        `direct ${ms(direct)}, n=${through.n}${perRun(path)}${errors ? `, ${errors} errors` : ""})`,
      target: target[path],
      verdict: !measured ? "info" : met ? "met" : "missed",
      miss: !measured || met
        ? undefined
        : errors
        ? `${errors} failed uploads`
        : `by ${(TARGET_RATIO - ratio).toFixed(2)}`,
    });
  }
  // The upload worker against the pipe: the same workerd hop and curl flags, so that what is
  // left is the worker's own work (start, completion, scan status, its JavaScript).
  const bare = spread(ok("bare-no-expect").map((s) => s.ms));
  const pipe = spread(ok("pipe").map((s) => s.ms));
  rows.push({
    figure: "curl",
    measure: `curl -T ${mibText(size)}: the upload worker's own work (workerd alone, ` +
      '-H "Expect:", vs the pipe)',
    result: `${(pipe.median / bare.median).toFixed(2)}× (+${
      (bare.median - pipe.median).toFixed(0)
    } ms: worker ${bare.median.toFixed(0)} ms, pipe ${pipe.median.toFixed(0)} ms)`,
    target: "(start, completion and scan status calls, JavaScript)",
    verdict: "info",
  });
  const processes = ["curl", "bench", "workerd", "service", "s3"];
  const cpuTable = [
    `| path | ${processes.join(" | ")} |`,
    `| --- | ${processes.map(() => "---:").join(" | ")} |`,
    ...PATHS.map((path) =>
      `| ${path} | ${
        processes.map((p) => median(ok(path).map((s) => s.cpu[p] ?? 0)).toFixed(0)).join(" | ")
      } |`
    ),
  ].join("\n");
  const notes = [
    `Each run uploads the same ${mibText(size)} file six ways with \`curl -T\` (curl's own ` +
    "`time_total`, in an order rotated every run): straight to a pre-signed S3 URL " +
    "(StartAttachmentUpload made beforehand, untimed; curl sends `Expect: 100-continue` there " +
    "too, which the local S3 answers); through the worker in workerd behind the relay that " +
    '`deno task start` puts in front of it (curl\'s defaults, and with `-H "Expect:"`); ' +
    "through workerd alone: with curl's defaults, which workerd never answers, so that curl " +
    'waits its second before sending; and with `-H "Expect:"`, which shows what the relay ' +
    "itself costs; and through a control worker in workerd (`bench/pipe_worker.js`) that only " +
    "passes the body on to a pre-signed URL made beforehand, `fetch(url, {body: request.body})`" +
    ": the extra hop with nothing of the upload worker's own. The relay runs in a thread of " +
    "its own, as in the start command. The ratio is the direct median time over the path's; " +
    "`per run` gives the spread of each run's own ratio. Every upload was checked against S3 " +
    "(size, MD5, completion where the path completes). The file is on disk before the runs.",
    `Median CPU time per upload by process, in ms (from /proc, in 10 ms ticks): curl; bench, ` +
    "this process (the relay's thread, Miniflare's Node side); the path's workerd; the local " +
    "Participant Service; the local S3:\n\n" + cpuTable,
    `The relay answered \`100 Continue\` ${continued} times (every upload through it with ` +
    "curl's defaults, warm-up included).",
    `Load average (1 min) before/after: ${loadBefore.toFixed(2)} / ${loadAfter.toFixed(2)}.`,
  ];
  return { figure: "curl", rows, notes, data: { size, samples, continued, loadBefore, loadAfter } };
}

function ms(s: { min: number; median: number; max: number }): string {
  return `${s.min.toFixed(0)}/${s.median.toFixed(0)}/${s.max.toFixed(0)} ms`;
}

function attachmentIdOf(text: string): string | undefined {
  try {
    const id = (JSON.parse(text) as Record<string, unknown>).attachmentId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}
