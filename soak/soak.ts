/**
 * The soak: many uploads of mixed sizes, many at once, through the worker, with faults
 * injected into the Participant Service and into S3; then a cross-check of what the client
 * was told against what the chats hold. Loopback only, bounded in count and time.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { listAttachments } from "../src/mod.ts";
import { openChat } from "../local/chat.ts";
import { sharedRateRules } from "../local/faults.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { sha256 } from "../testing/data.ts";
import { processMemory } from "../testing/processes.ts";
import { startProxy, type TcpProxy } from "../testing/proxy.ts";
import { seededRandom } from "../testing/seeded_random.ts";

/** A running worker, as the soak needs it. */
export interface SoakWorker {
  /** The worker's base URL. */
  url: string;
  /** The process whose memory is watched. */
  pid: number;
  /**
   * Runs a full garbage collection in the worker's process, waits for it and returns the bytes
   * that stay live in its JavaScript heaps. When given, every memory reading is taken right
   * after one, so that it counts live memory (plus what the allocator keeps), not garbage the
   * collector has yet to come back for, and the live heap is read with it.
   */
  collectGarbage?: () => Promise<number>;
  /** Stops it. */
  close(): Promise<void>;
}

/** Starts the worker against a Participant Service, allowing uploads to one host. */
export type StartSoakWorker = (config: {
  participantUrl: string;
  uploadHosts: string[];
}) => Promise<SoakWorker>;

/** Options of {@link runSoak}. */
export interface SoakOptions {
  /** Starts the worker under test. */
  startWorker: StartSoakWorker;
  /** Uploads in all. @default {2000} */
  uploads?: number;
  /** Uploads in flight at once. @default {32} */
  concurrency?: number;
  /** The smallest upload. @default {1024} */
  minBytes?: number;
  /** The largest upload. @default {20 * 1024 * 1024} */
  maxBytes?: number;
  /** The share of upstream calls (service calls and S3 PUTs) hit by a fault. @default {0.05} */
  faultRate?: number;
  /** Seeds the sizes and the faults, so that a run repeats. @default {1} */
  seed?: number;
  /** Tries per upload, the first included. @default {8} */
  maxAttempts?: number;
  /** The run stops starting uploads past this. @default {900_000} */
  timeLimitMs?: number;
  /**
   * The share of the uploads in the first pass; memory growth is judged over the second.
   * @default {0.5}
   */
  firstPassShare?: number;
  /**
   * Give each upload a new connection to the worker, rather than keep one alive per lane from
   * one upload to the next (as a busy client would).
   * @default {false}
   */
  newConnectionEach?: boolean;
  /** Uploads between two memory readings during the run. @default {100} */
  sampleEvery?: number;
  /** How long the worker idles after the last upload before the final reading. @default {1000} */
  settleMs?: number;
  /** Told of progress, one line at a time. */
  log?: (line: string) => void;
  /**
   * The `fetch` for requests to the worker (a checking one, in the suite); a rejection counts
   * as no answer.
   * @default {globalThis.fetch}
   */
  fetch?: typeof fetch;
}

/** What a soak run found. */
export interface SoakReport {
  /** Uploads started. */
  uploads: number;
  /** Uploads that ended completed, their bytes verified. */
  completed: number;
  /** Uploads that ended with an error after every try. */
  failed: number;
  /** Failed answers by problem code (or `network` where no answer came), retries included. */
  errorsByKind: Record<string, number>;
  /** Tries beyond the first. */
  retries: number;
  /** Bytes downloaded again and found identical. */
  bytesVerified: number;
  /** Completed attachments the client was not told of, or told of twice, or told failed. */
  silentLosses: number;
  /** Attachments in the chats that the client never asked for twice over (duplicates). */
  duplicates: number;
  /** Faults injected: Participant Service calls and S3 requests hit. */
  faultsInjected: { service: number; s3: number };
  /**
   * The upstream calls that faults could hit (while they were armed): StartAttachmentUpload and
   * CompleteAttachmentUpload calls, and S3 requests (the `PUT`s).
   */
  upstreamCalls: { service: number; s3: number };
  /** The worker's resident memory (RSS). */
  memory: SoakMemory;
  /** Wall time of the uploads, in milliseconds. */
  durationMs: number;
  /** Every problem the cross-check found, for people. */
  problems: string[];
}

/**
 * The worker's resident memory (RSS) over a soak, in bytes. The uploads run in two passes on
 * one worker; the idle readings (`baselineBytes`, `startBytes`, `endBytes`) are taken with no
 * upload in flight, every client connection closed, after `settleMs`. Growth is judged over
 * the second pass: a leak grows again with more uploads, a runtime's or an allocator's
 * high-water mark, reached in the first pass, does not.
 */
export interface SoakMemory {
  /** Idle, after the first two rounds (the first of them all at `maxBytes`, at once). */
  baselineBytes: number;
  /** Idle, after the first pass (`firstPassShare` of the uploads). */
  startBytes: number;
  /** The highest reading after the baseline (read every 200 ms, collections or not). */
  peakBytes: number;
  /** Idle, after the second pass (all uploads done). */
  endBytes: number;
  /** `endBytes - startBytes`: the growth over the second pass. */
  growthBytes: number;
  /** Whether each reading followed a full garbage collection (see `collectGarbage`). */
  collected: boolean;
  /**
   * The live JavaScript heap (ArrayBuffers included) at the idle readings, after their
   * collections: what the worker's own code holds, apart from the runtime's native memory.
   */
  heap?: { baselineBytes: number; startBytes: number; endBytes: number };
  /**
   * A reading every `sampleEvery` uploads (uploads in flight, connections open) and the idle
   * ones: RSS after the collection, and just before it.
   */
  samples: {
    uploads: number;
    rssBytes: number;
    beforeCollectionBytes: number;
    /** The live JavaScript heap after the collection. */
    heapBytes?: number;
    idle: boolean;
  }[];
}

interface Lane {
  chat: { connectionToken: string };
  /** The lane's own connection to the worker (kept alive from one upload to the next). */
  http: Deno.HttpClient;
}

/** One planned upload: its number, size and where its bytes start in the pool. */
interface Job {
  index: number;
  size: number;
  offset: number;
}

interface Outcome {
  name: string;
  key: string;
  size: number;
  digest: string;
  attachmentId?: string;
  error?: string;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/** The options with their defaults filled in. */
type Settings = Required<Omit<SoakOptions, "startWorker">> & Pick<SoakOptions, "startWorker">;

/**
 * Runs the soak and returns its figures. Starts its own local stack, an S3 proxy and the
 * worker, and stops them all. The steps: plan the uploads, arm the faults, run the first pass
 * (a burst at the largest size, then up to `firstPassShare`) and the second, reading the
 * worker's memory idle between them, disarm the faults, then cross-check every chat.
 *
 * @param options Counts, sizes, faults and the worker to start.
 * @returns The figures and the problems found.
 *
 * @example
 * ```ts ignore
 * import { runSoak } from "./soak.ts";
 * const report = await runSoak({ startWorker, uploads: 100 });
 * console.log(report.completed, report.silentLosses);
 * ```
 */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const settings = withDefaults(options);
  const rig = await startSoakRig(settings);
  let memory: MemoryWatch | undefined;
  try {
    const plan = planUploads(settings);
    const uploader = createUploader(rig.worker.url, settings);
    const faults = armFaults(rig, settings);
    memory = watchMemory(rig, settings);
    const started = performance.now();
    const lanes = runLanes(rig.lanes, plan, uploader, memory, settings, started);
    const burst = Math.min(settings.concurrency * 2, plan.length);
    await lanes.runUntil(burst);
    const baseline = await memory.idleReading("baseline", lanes.done);
    memory.watchPeak();
    await lanes.runUntil(Math.max(burst, Math.floor(plan.length * settings.firstPassShare)));
    const start = await memory.idleReading("first pass", lanes.done);
    await lanes.runUntil(plan.length);
    const durationMs = performance.now() - started;
    const injected = faults.disarm();
    const end = await memory.idleReading("second pass", lanes.done);
    memory.stopPeak();

    const check = await crossCheck(rig, lanes.outcomes, settings.uploads);
    return {
      uploads: lanes.outcomes.length,
      completed: check.completed,
      failed: lanes.outcomes.length - check.completed,
      errorsByKind: uploader.errorsByKind,
      retries: uploader.retries,
      bytesVerified: check.bytesVerified,
      silentLosses: check.silentLosses,
      duplicates: check.duplicates,
      faultsInjected: injected.struck,
      upstreamCalls: injected.eligible,
      memory: memory.figures(baseline, start, end),
      durationMs,
      problems: check.problems,
    };
  } finally {
    memory?.stopPeak();
    await rig.close();
  }
}

function withDefaults(options: SoakOptions): Settings {
  return {
    uploads: 2000,
    concurrency: 32,
    minBytes: 1024,
    maxBytes: 20 * 1024 * 1024,
    faultRate: 0.05,
    seed: 1,
    maxAttempts: 8,
    timeLimitMs: 900_000,
    sampleEvery: 100,
    firstPassShare: 0.5,
    settleMs: 1000,
    newConnectionEach: false,
    log: () => {},
    fetch: (input, init) => fetch(input, init),
    ...options,
  };
}

/** What the soak runs against: the stack, the proxy in front of its S3, the worker, lanes. */
interface SoakRig {
  stack: LocalStack;
  proxy: TcpProxy;
  worker: SoakWorker;
  client: ParticipantClient;
  /** One chat and one client connection per upload in flight. */
  lanes: Lane[];
  /** Hangs up every lane's connection to the worker; the next upload opens a new one. */
  hangUp(): void;
  close(): Promise<void>;
}

async function startSoakRig(settings: Settings): Promise<SoakRig> {
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    maxAttachmentsPerChat: settings.uploads + 1,
  });
  const s3Port = Number(new URL(stack.s3.url).port);
  const proxy = startProxy({ target: { hostname: "127.0.0.1", port: s3Port } });
  stack.service.s3.publicUrl = proxy.url;
  const lanes: Lane[] = [];
  let worker: SoakWorker | undefined;
  const close = async () => {
    for (const lane of lanes) lane.http.close();
    await worker?.close();
    await proxy.close();
    await stack.close();
  };
  try {
    worker = await settings.startWorker({
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(proxy.url).host],
    });
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    for (let i = 0; i < settings.concurrency; i++) {
      lanes.push({ chat: await openChat(client), http: Deno.createHttpClient({}) });
    }
    const hangUp = () => {
      for (const lane of lanes) {
        lane.http.close();
        lane.http = Deno.createHttpClient({});
      }
    };
    return { stack, proxy, worker, client, lanes, hangUp, close };
  } catch (error) {
    await close();
    throw error;
  }
}

/** The uploads, sized and placed, and one pool of bytes each is a slice of. */
interface UploadPlan {
  jobs: Job[];
  /** Random bytes; upload `i` is `pool[offset, offset + size)`, so its digest is cheap. */
  pool: Uint8Array<ArrayBuffer>;
  length: number;
}

function planUploads(settings: Settings): UploadPlan {
  const random = seededRandom(settings.seed);
  const pool = new Uint8Array(settings.maxBytes + 4096);
  for (let i = 0; i < pool.length; i += 65536) {
    crypto.getRandomValues(pool.subarray(i, Math.min(pool.length, i + 65536)));
  }
  const jobs = Array.from({ length: settings.uploads }, (_, index) => ({
    index,
    size: pickSize(random, settings.minBytes, settings.maxBytes),
    offset: Math.floor(random() * 4096),
  }));
  // The first round runs at the largest size on every lane at once.
  for (let i = 0; i < Math.min(settings.concurrency, jobs.length); i++) {
    jobs[i].size = settings.maxBytes;
  }
  return { jobs, pool, length: jobs.length };
}

/** Uploads one job through the worker, retrying as a careful client would; counts errors. */
interface Uploader {
  upload(lane: Lane, job: Job, pool: Uint8Array<ArrayBuffer>): Promise<Outcome>;
  /** Failed answers by problem code (or `network`), retries included. */
  errorsByKind: Record<string, number>;
  /** Tries beyond the first. */
  retries: number;
}

function createUploader(workerUrl: string, settings: Settings): Uploader {
  const uploader: Uploader = {
    errorsByKind: {},
    retries: 0,
    async upload(lane, job, pool) {
      const name = `soak-${String(job.index).padStart(5, "0")}.pdf`;
      const body = pool.subarray(job.offset, job.offset + job.size);
      const outcome: Outcome = {
        name,
        key: crypto.randomUUID(),
        size: job.size,
        digest: await sha256(body),
      };
      for (let attempt = 1; attempt <= settings.maxAttempts; attempt++) {
        if (attempt > 1) uploader.retries++;
        let status = 0;
        let code = "network";
        let retryAfter = 0;
        try {
          const response = await settings.fetch(`${workerUrl}/attachments/${name}`, {
            method: "PUT",
            headers: {
              "X-Amz-Bearer": lane.chat.connectionToken,
              "Idempotency-Key": outcome.key,
              "Content-Type": "application/pdf",
            },
            body,
            client: lane.http,
          });
          status = response.status;
          const answer = await response.json().catch(() => ({}));
          if (settings.newConnectionEach) {
            lane.http.close();
            lane.http = Deno.createHttpClient({});
          }
          if (status === 201) {
            outcome.attachmentId = answer.attachmentId ?? answer.AttachmentId ?? answer.id;
            outcome.error = undefined;
            return outcome;
          }
          code = String(answer.code ?? `http_${status}`);
          retryAfter = Number(response.headers.get("retry-after") ?? 0);
        } catch {
          // No answer: the worker went away mid-request; the same key makes a retry safe.
        }
        uploader.errorsByKind[code] = (uploader.errorsByKind[code] ?? 0) + 1;
        outcome.error = code;
        if (status !== 0 && !RETRYABLE.has(status)) return outcome;
        const ceiling = Math.min(2000, 50 * 2 ** attempt);
        await sleep(Math.max(retryAfter * 1000, Math.floor(Math.random() * ceiling)));
      }
      return outcome;
    },
  };
  return uploader;
}

/**
 * Faults from the first upload on: `faultRate` of the service calls, a third each throttled,
 * failed and dropped; `faultRate` of the S3 requests. `disarm()` stops them and says how many
 * struck, out of how many calls they could have.
 */
function armFaults(
  rig: SoakRig,
  settings: Settings,
): { disarm(): FaultCounts } {
  const { stack, proxy } = rig;
  for (const operation of ["StartAttachmentUpload", "CompleteAttachmentUpload"]) {
    const kinds = ["throttle", "error", "drop"] as const;
    for (const rule of sharedRateRules(operation, kinds, settings.faultRate, settings.seed)) {
      stack.service.faults.add(rule);
    }
  }
  proxy.strikeRequests({
    rate: settings.faultRate,
    seed: settings.seed + 101,
    faults: [
      { kind: "respond", status: 503, code: "SlowDown" },
      { kind: "reset", afterBytes: 512 },
      { kind: "respond", status: 500, code: "InternalError" },
    ],
  });
  return {
    disarm() {
      const { faults } = stack.service;
      const struck = {
        service: [...faults.hits.values()].reduce((a, b) => a + b, 0),
        s3: proxy.stats.struck,
      };
      const eligible = {
        service: (faults.calls.get("StartAttachmentUpload") ?? 0) +
          (faults.calls.get("CompleteAttachmentUpload") ?? 0),
        s3: proxy.stats.eligible,
      };
      proxy.strikeRequests(undefined);
      faults.clear();
      return { struck, eligible };
    },
  };
}

/** Faults struck, and the calls they could have struck. */
interface FaultCounts {
  struck: SoakReport["faultsInjected"];
  eligible: SoakReport["upstreamCalls"];
}

type Sample = SoakMemory["samples"][number];

/**
 * The worker's memory over the run: a reading after a full collection where the worker
 * offers one, and a timer that keeps the peak in between.
 */
interface MemoryWatch {
  /** A reading with uploads in flight. */
  reading(uploads: number): Promise<Sample>;
  /** A reading of the worker idle: no upload in flight, no client connection, settled. */
  idleReading(label: string, uploads: number): Promise<Sample>;
  watchPeak(): void;
  stopPeak(): void;
  figures(baseline: Sample, start: Sample, end: Sample): SoakMemory;
}

function watchMemory(rig: SoakRig, settings: Settings): MemoryWatch {
  const { worker } = rig;
  const rss = () => processMemory(worker.pid).rss;
  const samples: Sample[] = [];
  let peakBytes = 0;
  let peakTimer: ReturnType<typeof setInterval> | undefined;
  const read = async (idle: boolean, uploads: number) => {
    const before = rss();
    peakBytes = Math.max(peakBytes, before);
    const heapBytes = worker.collectGarbage ? await worker.collectGarbage() : undefined;
    const sample = {
      uploads,
      rssBytes: rss(),
      beforeCollectionBytes: before,
      ...(heapBytes !== undefined ? { heapBytes } : {}),
      idle,
    };
    samples.push(sample);
    return sample;
  };
  return {
    reading: (uploads) => read(false, uploads),
    async idleReading(label, uploads) {
      rig.hangUp();
      await sleep(settings.settleMs);
      const sample = await read(true, uploads);
      settings.log(`${label}: ${uploads} uploads, idle worker RSS ${mib(sample.rssBytes)}`);
      return sample;
    },
    watchPeak() {
      peakTimer = setInterval(() => peakBytes = Math.max(peakBytes, rss()), 200);
    },
    stopPeak: () => clearInterval(peakTimer),
    figures: (baseline, start, end) => ({
      baselineBytes: baseline.rssBytes,
      startBytes: start.rssBytes,
      peakBytes,
      endBytes: end.rssBytes,
      growthBytes: end.rssBytes - start.rssBytes,
      collected: worker.collectGarbage !== undefined,
      ...(end.heapBytes !== undefined
        ? {
          heap: {
            baselineBytes: baseline.heapBytes!,
            startBytes: start.heapBytes!,
            endBytes: end.heapBytes,
          },
        }
        : {}),
      samples,
    }),
  };
}

/**
 * The lanes taking jobs off the plan in turn, one upload at a time each; a memory reading
 * every `sampleEvery` uploads (one at a time, while the other lanes go on uploading).
 */
function runLanes(
  lanes: Lane[],
  plan: UploadPlan,
  uploader: Uploader,
  memory: MemoryWatch,
  settings: Settings,
  started: number,
): { runUntil(until: number): Promise<void>; outcomes: Outcome[]; done: number } {
  const outcomes: Outcome[] = [];
  let next = 0;
  const state = {
    outcomes,
    done: 0,
    async runUntil(until: number) {
      const deadline = started + settings.timeLimitMs;
      let sampling = Promise.resolve();
      await Promise.all(lanes.map(async (lane) => {
        while (next < until && performance.now() < deadline) {
          outcomes.push(await uploader.upload(lane, plan.jobs[next++], plan.pool));
          const at = ++state.done;
          if (at % settings.sampleEvery !== 0) continue;
          sampling = sampling.then(async () => {
            const { rssBytes, beforeCollectionBytes } = await memory.reading(at);
            settings.log(
              `${at}/${plan.length} uploads, worker RSS ${mib(rssBytes)} ` +
                `(${mib(beforeCollectionBytes)} before collection)`,
            );
          });
        }
      }));
      await sampling;
    },
  };
  return state;
}

/**
 * What the client was told against what the chats hold: every attachment in a chat was asked
 * for once and reported with its id; every one reported completed is in its chat; every
 * completed one downloads again with the bytes sent.
 */
async function crossCheck(
  rig: SoakRig,
  outcomes: Outcome[],
  uploads: number,
): Promise<{
  completed: number;
  bytesVerified: number;
  silentLosses: number;
  duplicates: number;
  problems: string[];
}> {
  const problems: string[] = [];
  const told = new Map(outcomes.map((o) => [o.name, o]));
  let silentLosses = 0;
  let duplicates = 0;
  const seen = new Map<string, number>();
  const tokenOf = new Map<string, string>();
  const maxPages = Math.ceil(uploads / 100) + 2;
  for (const lane of rig.lanes) {
    const token = lane.chat.connectionToken;
    for (
      const item of await listAttachments({ client: rig.client, connectionToken: token, maxPages })
    ) {
      tokenOf.set(item.attachmentId, token);
      seen.set(item.name, (seen.get(item.name) ?? 0) + 1);
      const outcome = told.get(item.name);
      if (!outcome) {
        problems.push(`${item.name}: in a chat, never asked for`);
        silentLosses++;
      } else if (outcome.attachmentId === undefined) {
        problems.push(`${item.name}: completed, but the client was told ${outcome.error}`);
        silentLosses++;
      } else if (outcome.attachmentId !== item.attachmentId) {
        problems.push(
          `${item.name}: completed as ${item.attachmentId}, reported as ${outcome.attachmentId}`,
        );
        silentLosses++;
      }
    }
  }
  for (const [name, count] of seen) {
    if (count > 1) {
      problems.push(`${name}: ${count} attachments`);
      duplicates += count - 1;
    }
  }
  const completed = outcomes.filter((o) => o.attachmentId !== undefined);
  for (const outcome of completed) {
    if (!seen.has(outcome.name)) {
      problems.push(`${outcome.name}: reported completed, not in its chat`);
      silentLosses++;
    }
  }
  // Download every completed attachment again and compare digests, 8 at a time.
  let bytesVerified = 0;
  let cursor = 0;
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (cursor < completed.length) {
      const outcome = completed[cursor++];
      const token = tokenOf.get(outcome.attachmentId!);
      if (!token) continue;
      const got = await rig.client.getAttachment(token, { AttachmentId: outcome.attachmentId! });
      if (!got.data?.Url) {
        problems.push(`${outcome.name}: GetAttachment failed`);
        continue;
      }
      const bytes = new Uint8Array(await (await fetch(got.data.Url)).arrayBuffer());
      if (bytes.length === outcome.size && await sha256(bytes) === outcome.digest) {
        bytesVerified += bytes.length;
      } else {
        problems.push(`${outcome.name}: the stored bytes differ from those sent`);
        silentLosses++;
      }
    }
  }));
  return { completed: completed.length, bytesVerified, silentLosses, duplicates, problems };
}

/**
 * Formats a report as the lines the soak prints.
 *
 * @param report The figures.
 * @returns Lines for people.
 */
export function formatSoakReport(report: SoakReport): string {
  const kinds = Object.entries(report.errorsByKind).sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  const share = (part: number, whole: number) =>
    `${part} of ${whole} (${whole ? ((100 * part) / whole).toFixed(1) : "0.0"}%)`;
  const signed = (n: number) => `${n >= 0 ? "+" : "−"}${mib(Math.abs(n))}`;
  const { memory } = report;
  return [
    `uploads:          ${report.uploads} (${report.completed} completed, ${report.failed} failed)`,
    `errors by kind:   ${kinds}`,
    `retries:          ${report.retries}`,
    `bytes verified:   ${report.bytesVerified} (${mib(report.bytesVerified)})`,
    `faults injected:  ${share(report.faultsInjected.service, report.upstreamCalls.service)} ` +
    `service calls, ${share(report.faultsInjected.s3, report.upstreamCalls.s3)} S3 requests`,
    `silent losses:    ${report.silentLosses}`,
    `duplicates:       ${report.duplicates}`,
    `worker memory:    baseline ${mib(memory.baselineBytes)}, after the first pass ` +
    `${mib(memory.startBytes)}, peak ${mib(memory.peakBytes)}, end ${mib(memory.endBytes)}`,
    `memory growth:    ${signed(memory.growthBytes)} over the second pass ` +
    `(${signed(memory.endBytes - memory.baselineBytes)} since the baseline; ` +
    `${
      memory.collected ? "idle readings after full garbage collections" : "no collections forced"
    })`,
    ...(memory.heap
      ? [
        `live JS heap:     baseline ${mib(memory.heap.baselineBytes)}, after the first pass ` +
        `${mib(memory.heap.startBytes)}, end ${mib(memory.heap.endBytes)}`,
      ]
      : []),
    `duration:         ${(report.durationMs / 1000).toFixed(1)} s`,
  ].join("\n");
}

/**
 * The memory readings of a report, one line per reading, for people.
 *
 * @param memory The report's memory figures.
 * @returns Lines such as `1000 uploads: 98.2 MiB (131.0 MiB before collection)`.
 *
 * @example
 * ```ts ignore
 * console.error(formatMemorySamples(report.memory));
 * ```
 */
export function formatMemorySamples(memory: SoakMemory): string {
  return memory.samples.map((s) =>
    `${String(s.uploads).padStart(6)} uploads: ${mib(s.rssBytes)}` +
    (memory.collected ? ` (${mib(s.beforeCollectionBytes)} before collection)` : "") +
    (s.heapBytes !== undefined ? `, live JS heap ${mib(s.heapBytes)}` : "") +
    (s.idle ? ", idle" : "")
  ).join("\n");
}

function mib(bytes: number): string {
  return `${(bytes / 2 ** 20).toFixed(1)} MiB`;
}

function pickSize(random: () => number, min: number, max: number): number {
  // Mostly small files, some medium, a few at the limit: log-uniform between the bounds.
  const lo = Math.log(min);
  const hi = Math.log(max);
  return Math.max(min, Math.min(max, Math.round(Math.exp(lo + random() * (hi - lo)))));
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
