/**
 * The soak: many uploads of mixed sizes, many at once, through the worker, with faults
 * injected into the Participant Service and into S3; then a cross-check of what the client
 * was told against what the chats hold. Loopback only, bounded in count and time.
 *
 * @module
 */

import { createParticipantClient, type ParticipantClient } from "../src/client.ts";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { startProxy } from "../local/proxy.ts";
import type { FaultRule } from "../local/faults.ts";
import { xorshift } from "../local/xorshift.ts";

/** A running worker, as the soak needs it. */
export interface SoakWorker {
  /** The worker's base URL. */
  url: string;
  /** The process whose memory is watched. */
  pid: number;
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
  /** Told of progress, one line at a time. */
  log?: (line: string) => void;
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
  /** Upstream calls seen: Participant Service calls and S3 requests. */
  upstreamCalls: { service: number; s3: number };
  /** The worker's resident memory after warm-up and at the end, in bytes. */
  memory: { startBytes: number; endBytes: number; growthBytes: number };
  /** Wall time of the uploads, in milliseconds. */
  durationMs: number;
  /** Every problem the cross-check found, for people. */
  problems: string[];
}

interface Lane {
  chat: { connectionToken: string };
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
    log = () => {},
  } = options;
  const random = xorshift(seed);
  const calls = { service: 0 };
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    maxAttachmentsPerChat: uploads + 1,
    log: (line) => {
      if (/ (Start|Complete)AttachmentUpload /.test(line)) calls.service++;
    },
  });
  const s3Port = Number(new URL(stack.s3.url).port);
  const proxy = startProxy({ target: { hostname: "127.0.0.1", port: s3Port } });
  stack.service.s3.publicUrl = proxy.url;
  let worker: SoakWorker | undefined;
  try {
    worker = await options.startWorker({
      participantUrl: stack.participantUrl,
      uploadHosts: [new URL(proxy.url).host],
    });
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const lanes: Lane[] = [];
    for (let i = 0; i < concurrency; i++) lanes.push({ chat: await openChat(client) });

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
          const response = await fetch(`${worker!.url}/attachments/${name}`, {
            method: "PUT",
            headers: {
              "X-Amz-Bearer": lane.chat.connectionToken,
              "Idempotency-Key": outcome.key,
              "Content-Type": "application/pdf",
            },
            body,
          });
          status = response.status;
          const answer = await response.json().catch(() => ({}));
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

    // Warm up (pools, buffers, code paths) with two rounds, the largest size among them,
    // before memory is first read; the warm-up uploads count.
    const warmUp = Math.min(concurrency * 2, plan.length);
    if (warmUp > 0) plan[0].size = maxBytes;
    let next = 0;
    await Promise.all(lanes.map(async (lane) => {
      while (next < warmUp) outcomes.push(await upload(lane, plan[next++]));
    }));
    const startBytes = rss(worker.pid);
    log(`warm: ${warmUp} uploads, worker RSS ${(startBytes / 2 ** 20).toFixed(1)} MiB`);

    // Faults from here on.
    const serviceRules: FaultRule[] = [];
    for (const operation of ["StartAttachmentUpload", "CompleteAttachmentUpload"]) {
      serviceRules.push(
        { operation, kind: "throttle", rate: faultRate / 3, seed: seed + 11 },
        { operation, kind: "error", rate: faultRate / 3, seed: seed + 23 },
        { operation, kind: "drop", rate: faultRate / 3, seed: seed + 37 },
      );
    }
    for (const rule of serviceRules) stack.service.faults.add(rule);
    const servicesBefore = calls.service;
    const s3Before = proxy.stats.requests;
    proxy.strikeRequests({
      rate: faultRate,
      seed: seed + 101,
      faults: [
        { kind: "respond", status: 503, code: "SlowDown" },
        { kind: "reset", afterBytes: 512 },
        { kind: "respond", status: 500, code: "InternalError" },
      ],
    });

    const started = performance.now();
    const deadline = Date.now() + timeLimitMs;
    let done = warmUp;
    await Promise.all(lanes.map(async (lane) => {
      while (next < plan.length && Date.now() < deadline) {
        const job = plan[next++];
        outcomes.push(await upload(lane, job));
        done++;
        if (done % 100 === 0) log(`${done}/${plan.length} uploads`);
      }
    }));
    const durationMs = performance.now() - started;
    proxy.strikeRequests(undefined);
    const serviceFaults = [...stack.service.faults.hits.values()].reduce((a, b) => a + b, 0);
    stack.service.faults.clear();
    await sleep(200);
    const endBytes = rss(worker.pid);

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
      faultsInjected: {
        service: serviceFaults,
        s3: proxy.stats.struck,
      },
      upstreamCalls: {
        service: calls.service - servicesBefore,
        s3: proxy.stats.requests - s3Before,
      },
      memory: { startBytes, endBytes, growthBytes: endBytes - startBytes },
      durationMs,
      problems,
    };
  } finally {
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
  const mib = (n: number) => (n / 2 ** 20).toFixed(1) + " MiB";
  const kinds = Object.entries(report.errorsByKind).sort((a, b) => b[1] - a[1])
    .map(([k, n]) => `${k} ${n}`).join(", ") || "none";
  return [
    `uploads:          ${report.uploads} (${report.completed} completed, ${report.failed} failed)`,
    `errors by kind:   ${kinds}`,
    `retries:          ${report.retries}`,
    `bytes verified:   ${report.bytesVerified} (${mib(report.bytesVerified)})`,
    `faults injected:  ${report.faultsInjected.service} of ${report.upstreamCalls.service} service calls, ${report.faultsInjected.s3} of ${report.upstreamCalls.s3} S3 requests`,
    `silent losses:    ${report.silentLosses}`,
    `duplicates:       ${report.duplicates}`,
    `worker memory:    ${mib(report.memory.startBytes)} → ${mib(report.memory.endBytes)} (${
      report.memory.growthBytes >= 0 ? "+" : ""
    }${mib(report.memory.growthBytes)})`,
    `duration:         ${(report.durationMs / 1000).toFixed(1)} s`,
  ].join("\n");
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
