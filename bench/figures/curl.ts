/**
 * `curl -T` with curl's defaults: the README's own upload line, timed by curl itself, through
 * the worker in workerd as `deno task start` runs it (behind the relay that answers
 * `Expect: 100-continue`), the same with `-H "Expect:"`, through workerd alone (no relay), and
 * straight to a pre-signed S3 URL; interleaved, median of the runs.
 *
 * @module
 */

import type { Plan } from "../plan.ts";
import type { FigureResult, Row } from "../report.ts";
import { loadAverage } from "../../testing/processes.ts";
import { launchStack } from "../stack.ts";
import { spread } from "../stats.ts";
import { bodyChunks } from "../body.ts";
import { prepareDirect, type UploadOutcome, verifyUpload } from "../uploads.ts";
import { mibText } from "./throughput.ts";
import { type RunningWorkerd, startWorkerd } from "../../testing/workerd.ts";
import { workerBundle } from "../../testing/worker.ts";

const TARGET_RATIO = 0.9;

/** The ways the file goes up. */
const PATHS = ["direct", "relay", "relay-no-expect", "bare", "bare-no-expect"] as const;
type Path = typeof PATHS[number];

const LABEL: Record<Exclude<Path, "direct">, string> = {
  relay: "via workerd + relay (deno task start), curl's defaults",
  "relay-no-expect": 'via workerd + relay, -H "Expect:"',
  bare: "via workerd alone (no relay), curl's defaults",
  "bare-no-expect": 'via workerd alone, -H "Expect:"',
};

/** One timed `curl -T`. */
interface Sample {
  path: Path;
  run: number;
  /** curl's `time_total`, in ms. */
  ms: number;
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
    handle.close();
    const scriptPath = await workerBundle();
    const vars = {
      PARTICIPANT_ENDPOINT: stack.participantUrl,
      UPLOAD_HOSTS: new URL(stack.s3PublicUrl).host,
      MAX_ATTACHMENT_BYTES: String(size),
    };
    const relayed = await startWorkerd({
      scriptPath,
      vars,
      answerContinue: true,
      rateLimit: false,
    });
    workers.push(relayed);
    const bare = await startWorkerd({ scriptPath, vars, rateLimit: false });
    workers.push(bare);
    const chat = await stack.openChat();
    const token = ["-H", `X-Amz-Bearer: ${chat.connectionToken}`];
    const upload = async (path: Path): Promise<UploadOutcome> => {
      if (path === "direct") {
        const prepared = await prepareDirect(stack, chat, { size, seed });
        const headers = Object.entries(prepared.headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]);
        const sent = await curl(["-T", file, ...headers, prepared.url]);
        if (!sent.error && sent.status !== 200) sent.error = `S3 answered ${sent.status}`;
        return { ms: sent.ms, attachmentId: prepared.attachmentId, error: sent.error };
      }
      const base = path.startsWith("bare") ? bare.url : relayed.url;
      const noExpect = path.endsWith("no-expect") ? ["-H", "Expect:"] : [];
      const sent = await curl(["-T", file, ...token, ...noExpect, `${base}/attachments/`]);
      if (!sent.error && sent.status !== 201) sent.error = `worker answered ${sent.status}`;
      return { ms: sent.ms, attachmentId: attachmentIdOf(sent.body), error: sent.error };
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
        const checked = await verifyUpload(stack, sent, { size, seed }, path !== "direct");
        samples.push({ path, run, ms: checked.ms, error: checked.error });
        log(
          `curl ${mibText(size)} ${path} run ${run + 1}: ${checked.ms.toFixed(0)} ms${
            checked.error ? ` ERROR ${checked.error}` : ""
          }`,
        );
      }
    }
    continued = (await relayed.relay?.stats())?.continued ?? 0;
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
  const rows: Row[] = [];
  for (const path of ["relay", "relay-no-expect", "bare", "bare-no-expect"] as const) {
    const through = spread(ok(path).map((s) => s.ms));
    const errors = samples.filter((s) => s.path === path && s.error).length;
    const ratio = direct.median / through.median;
    const measured = path.startsWith("relay");
    const met = errors === 0 && ratio >= TARGET_RATIO;
    rows.push({
      figure: "curl",
      measure: `curl -T ${mibText(size)} ${LABEL[path]} vs direct`,
      result: `${ratio.toFixed(2)}× (worker ${ms(through)}, direct ${ms(direct)}, n=${through.n}${
        errors ? `, ${errors} errors` : ""
      })`,
      target: measured
        ? `≥ ${TARGET_RATIO.toFixed(2)}× direct`
        : path === "bare"
        ? "(the stall the relay removes)"
        : "(workerd without the relay)",
      verdict: !measured ? "info" : met ? "met" : "missed",
      miss: !measured || met
        ? undefined
        : errors
        ? `${errors} failed uploads`
        : `by ${(TARGET_RATIO - ratio).toFixed(2)}`,
    });
  }
  const notes = [
    `Each run uploads the same ${mibText(size)} file five ways with \`curl -T\` (curl's own ` +
    "`time_total`, in an order rotated every run): straight to a pre-signed S3 URL " +
    "(StartAttachmentUpload made beforehand, untimed; curl sends `Expect: 100-continue` there " +
    "too, which the local S3 answers); through the worker in workerd behind the relay that " +
    '`deno task start` puts in front of it (curl\'s defaults, and with `-H "Expect:"`); and ' +
    "through workerd alone: with curl's defaults, which workerd never answers, so that curl " +
    'waits its second before sending; and with `-H "Expect:"`, which shows what the relay ' +
    "itself costs. The relay runs in a thread of its own, as in the start command. The ratio " +
    "is the direct median time over the worker's. Every upload was " +
    "checked against S3 (size, MD5, completion).",
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
