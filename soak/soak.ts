/**
 * The soak: many uploads of mixed sizes, many at once, through the worker, with faults
 * injected into the Participant Service and into S3; then a cross-check of what the client
 * was told against what the chats hold. Loopback only, bounded in count and time.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { startProxy } from "../local/proxy.ts";
import { sharedRateRules } from "../local/faults.ts";
import { seededRandom } from "../local/seeded_random.ts";

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

interface Outcome {
  name: string;
  key: string;
  size: number;
  digest: string;
  attachmentId?: string;
  error?: string;
}

const RETRYABLE = new Set([408, 429, 500, 502, 503, 504]);

/**
 * Runs the soak and returns its figures. Starts its own local stack, an S3 proxy and the
 * worker, and stops them all.
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
  const {
    uploads = 2000,
    concurrency = 32,
    minBytes = 1024,
    maxBytes = 20 * 1024 * 1024,
    faultRate = 0.05,
    seed = 1,
    maxAttempts = 8,
    timeLimitMs = 900_000,
    sampleEvery = 100,
    firstPassShare = 0.5,
    settleMs = 1000,
    log = () => {},
    fetch: toWorker = fetch,
  } = options;
  const random = seededRandom(seed);
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    maxAttachmentsPerChat: uploads + 1,
  });
  const s3Port = Number(new URL(stack.s3.url).port);
  const proxy = startProxy({ target: { hostname: "127.0.0.1", port: s3Port } });
  stack.service.s3.publicUrl = proxy.url;
  let worker: SoakWorker | undefined;
  let peakTimer: ReturnType<typeof setInterval> | undefined;
  const lanes: Lane[] = [];
  try {
    worker = await options.startWorker({
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(proxy.url).host],
    });
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    for (let i = 0; i < concurrency; i++) {
      lanes.push({ chat: await openChat(client), http: Deno.createHttpClient({}) });
    }
    // Hangs up every lane's connection to the worker; the next upload opens a new one.
    const hangUp = () => {
      for (const lane of lanes) {
        lane.http.close();
        lane.http = Deno.createHttpClient({});
      }
    };

    // One pool of bytes; each upload is a slice of it, so its digest is cheap to know.
    const pool = new Uint8Array(maxBytes + 4096);
    for (let i = 0; i < pool.length; i += 65536) {
      crypto.getRandomValues(pool.subarray(i, Math.min(pool.length, i + 65536)));
    }
    const plan = Array.from({ length: uploads }, (_, i) => {
      const size = pickSize(random, minBytes, maxBytes);
      const offset = Math.floor(random() * 4096);
      return { index: i, size, offset };
    });

    const errorsByKind: Record<string, number> = {};
    let retries = 0;
    const outcomes: Outcome[] = [];
    const upload = async (lane: Lane, job: (typeof plan)[number]): Promise<Outcome> => {
      const name = `soak-${String(job.index).padStart(5, "0")}.pdf`;
      const body = pool.subarray(job.offset, job.offset + job.size);
      const outcome: Outcome = {
        name,
        key: crypto.randomUUID(),
        size: job.size,
        digest: await sha256(body),
      };
      for (let attempt = 1; attempt <= maxAttempts; attempt++) {
        if (attempt > 1) retries++;
        let status = 0;
        let code = "network";
        let retryAfter = 0;
        try {
          const response = await toWorker(`${worker!.url}/attachments/${name}`, {
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
          if (options.newConnectionEach) {
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
        errorsByKind[code] = (errorsByKind[code] ?? 0) + 1;
        outcome.error = code;
        if (status !== 0 && !RETRYABLE.has(status)) return outcome;
        const ceiling = Math.min(2000, 50 * 2 ** attempt);
        await sleep(Math.max(retryAfter * 1000, Math.floor(Math.random() * ceiling)));
      }
      return outcome;
    };

    // Faults from the first upload on: `faultRate` of the service calls, a third each
    // throttled, failed and dropped; `faultRate` of the S3 requests.
    for (const operation of ["StartAttachmentUpload", "CompleteAttachmentUpload"]) {
      const kinds = ["throttle", "error", "drop"] as const;
      for (const rule of sharedRateRules(operation, kinds, faultRate, seed)) {
        stack.service.faults.add(rule);
      }
    }
    proxy.strikeRequests({
      rate: faultRate,
      seed: seed + 101,
      faults: [
        { kind: "respond", status: 503, code: "SlowDown" },
        { kind: "reset", afterBytes: 512 },
        { kind: "respond", status: 500, code: "InternalError" },
      ],
    });

    // Memory readings: after a full collection where the worker offers one; a timer keeps the
    // peak in between.
    const samples: SoakMemory["samples"] = [];
    let peakBytes = 0;
    const reading = async (idle: boolean, uploads = done) => {
      const before = rss(worker!.pid);
      peakBytes = Math.max(peakBytes, before);
      const heapBytes = worker!.collectGarbage ? await worker!.collectGarbage() : undefined;
      const sample = {
        uploads,
        rssBytes: rss(worker!.pid),
        beforeCollectionBytes: before,
        ...(heapBytes !== undefined ? { heapBytes } : {}),
        idle,
      };
      samples.push(sample);
      return sample;
    };
    // The worker idle: no upload in flight, no client connection open, a moment to settle.
    const idleReading = async (label: string) => {
      hangUp();
      await sleep(settleMs);
      const sample = await reading(true);
      log(`${label}: ${done} uploads, idle worker RSS ${mib(sample.rssBytes)}`);
      return sample;
    };

    const started = performance.now();
    const deadline = started + timeLimitMs;
    let next = 0;
    let done = 0;
    const runUntil = async (until: number) => {
      let sampling = Promise.resolve();
      await Promise.all(lanes.map(async (lane) => {
        while (next < until && performance.now() < deadline) {
          outcomes.push(await upload(lane, plan[next++]));
          done++;
          if (done % sampleEvery === 0) {
            const at = done;
            // One reading at a time; the other lanes keep uploading meanwhile.
            sampling = sampling.then(async () => {
              const { rssBytes, beforeCollectionBytes } = await reading(false, at);
              log(
                `${at}/${plan.length} uploads, worker RSS ${mib(rssBytes)} ` +
                  `(${mib(beforeCollectionBytes)} before collection)`,
              );
            });
          }
        }
      }));
      await sampling;
    };

    // The first pass: a burst of the largest size on every lane at once, then a round more
    // (the baseline), then up to half of the uploads (the start). The second pass: the rest,
    // on new connections (the end). Every upload counts.
    const burst = Math.min(concurrency * 2, plan.length);
    for (let i = 0; i < Math.min(concurrency, plan.length); i++) plan[i].size = maxBytes;
    await runUntil(burst);
    const baseline = await idleReading("baseline");
    peakTimer = setInterval(() => peakBytes = Math.max(peakBytes, rss(worker!.pid)), 200);
    await runUntil(Math.max(burst, Math.floor(plan.length * firstPassShare)));
    const start = await idleReading("first pass");
    await runUntil(plan.length);
    const durationMs = performance.now() - started;
    const struck = {
      service: [...stack.service.faults.hits.values()].reduce((a, b) => a + b, 0),
      s3: proxy.stats.struck,
    };
    const eligible = {
      service: (stack.service.faults.calls.get("StartAttachmentUpload") ?? 0) +
        (stack.service.faults.calls.get("CompleteAttachmentUpload") ?? 0),
      s3: proxy.stats.eligible,
    };
    proxy.strikeRequests(undefined);
    stack.service.faults.clear();
    const end = await idleReading("second pass");
    clearInterval(peakTimer);

    // The cross-check: what the client was told against what the chats hold.
    const problems: string[] = [];
    const told = new Map(outcomes.map((o) => [o.name, o]));
    let silentLosses = 0;
    let duplicates = 0;
    const seen = new Map<string, number>();
    for (const lane of lanes) {
      for (const item of await attachmentItems(client, lane.chat.connectionToken)) {
        seen.set(item.name, (seen.get(item.name) ?? 0) + 1);
        const outcome = told.get(item.name);
        if (!outcome) {
          problems.push(`${item.name}: in a chat, never asked for`);
          silentLosses++;
        } else if (outcome.attachmentId === undefined) {
          problems.push(`${item.name}: completed, but the client was told ${outcome.error}`);
          silentLosses++;
        } else if (outcome.attachmentId !== item.id) {
          problems.push(
            `${item.name}: completed as ${item.id}, reported as ${outcome.attachmentId}`,
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
    let bytesVerified = 0;
    const completedOutcomes = outcomes.filter((o) => o.attachmentId !== undefined);
    for (const outcome of completedOutcomes) {
      if (!seen.has(outcome.name)) {
        problems.push(`${outcome.name}: reported completed, not in its chat`);
        silentLosses++;
      }
    }
    // Download every completed attachment again and compare digests.
    const byLane = new Map<string, string>();
    for (const lane of lanes) {
      for (const item of await attachmentItems(client, lane.chat.connectionToken)) {
        byLane.set(item.id, lane.chat.connectionToken);
      }
    }
    let cursor = 0;
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (cursor < completedOutcomes.length) {
        const outcome = completedOutcomes[cursor++];
        const token = byLane.get(outcome.attachmentId!);
        if (!token) continue;
        const got = await client.getAttachment(token, { AttachmentId: outcome.attachmentId! });
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

    return {
      uploads: outcomes.length,
      completed: completedOutcomes.length,
      failed: outcomes.length - completedOutcomes.length,
      errorsByKind,
      retries,
      bytesVerified,
      silentLosses,
      duplicates,
      faultsInjected: struck,
      upstreamCalls: eligible,
      memory: {
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
      },
      durationMs,
      problems,
    };
  } finally {
    clearInterval(peakTimer);
    for (const lane of lanes) lane.http.close();
    await worker?.close();
    await proxy.close();
    await stack.close();
  }
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

async function attachmentItems(
  client: ParticipantClient,
  token: string,
): Promise<{ id: string; name: string }[]> {
  const items: { id: string; name: string }[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.getTranscript(token, {
      MaxResults: 100,
      ScanDirection: "FORWARD",
      SortOrder: "ASCENDING",
      StartPosition: undefined,
      ...(nextToken ? { NextToken: nextToken } : {}),
    });
    if (page.error) throw new Error(`GetTranscript failed: ${page.error.name}`);
    for (const item of page.data.Transcript ?? []) {
      for (const attachment of item.Attachments ?? []) {
        items.push({ id: attachment.AttachmentId!, name: attachment.AttachmentName! });
      }
    }
    nextToken = page.data.NextToken;
  } while (nextToken);
  return items;
}

function rss(pid: number): number {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  return Number(/^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1] ?? NaN) * 1024;
}

async function sha256(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
