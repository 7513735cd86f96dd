/**
 * `deno task start`: the whole local stack in one command. A verifying S3, the local
 * Participant Service and the upload worker (in workerd, or under Deno
 * with `--runtime deno`), then a chat to send files into, with a ready ConnectionToken and the
 * `curl` line that does it. The worker serves the development page at `/` (`DEV_PAGE=true`):
 * a chat attachment page to open in a browser.
 *
 * ```sh
 * deno task start                          # S3 on 4568, service on 8788, worker on 8787
 * deno task start --worker-port 9000       # or WORKER_PORT=9000; 0 picks a free port
 * MAX_ATTACHMENT_BYTES=209715200 deno task start   # raise the limit for worker and service
 * deno task start --runtime deno           # the worker under Deno instead of workerd
 * ATTACHMENT_SCANNING=on deno task start   # scan attachments (EICAR is rejected)
 * ```
 *
 * A port in use is an error. Ctrl-C (or SIGTERM) stops everything and removes the S3 data.
 *
 * @module
 */

import process from "node:process";
import { createParticipantClient } from "../src/_core/client.ts";
import { createApp } from "../worker/app.ts";
import { DENO_EDGE } from "../worker/deno.ts";
import { parseConfig } from "../worker/config.ts";
import { devPageFactory } from "../worker/dev_page.ts";
import { bundlePageScripts } from "../worker/_build/page_script.ts";
import { buildWorkerBundle, DEV_WORKER_BUNDLE } from "../worker/_build/bundle.ts";
import { type ChatSession, openChat } from "./chat.ts";
import { DEFAULT_CHAT_MAX_BYTES } from "./participant/instance_settings.ts";
import { assertPortFree, freePort } from "../testing/ports.ts";
import { type LocalStack, startLocalStack } from "./stack.ts";
import { startWorkerd } from "../testing/workerd.ts";
import { exitWithUsage, parseCommandLine } from "../worker/_command_line.ts";

const USAGE = `Usage: deno task start [options]

Starts a verifying local S3, the local Participant Service and the upload worker, opens a
chat and prints its ConnectionToken and a curl line that uploads a file into it.

Options (each also an environment variable; 0 picks a free port):
  --host H              HOST               address of all three servers (default 127.0.0.1)
  --s3-port N           S3_PORT            local S3 port (default 4568)
  --participant-port N  PARTICIPANT_PORT   local Participant Service port (default 8788)
  --worker-port N       WORKER_PORT        upload worker port (default 8787)
  --max-bytes N         MAX_ATTACHMENT_BYTES  size limit of worker and service (default: the
                                              worker's 100 MB, the unconfigured instance's 20 MB)
  --runtime R           WORKER_RUNTIME     workerd (default) or deno
  --scanning            ATTACHMENT_SCANNING=on  scan completed attachments (default off)
  --scan-delay-ms N     SCAN_DELAY_MS      how long a scan takes (default 1000)
  --s3-cors-origins L   S3_CORS_ORIGINS    comma-separated origins the bucket allows
                                           (default: the worker's, i.e. the dev page's)
  --quiet                                  no per-request log lines (they never show tokens)
  --verbose                                also print everything workerd prints
  --help                                   this text`;

/** A running worker, whichever runtime it is in. */
interface RunningWorker {
  url: string;
  exited: Promise<unknown>;
  close(): Promise<void>;
}

async function main(): Promise<number> {
  const { values } = parseCommandLine(Deno.args, USAGE, {
    host: { type: "string" },
    "s3-port": { type: "string" },
    "participant-port": { type: "string" },
    "worker-port": { type: "string" },
    "max-bytes": { type: "string" },
    runtime: { type: "string" },
    scanning: { type: "boolean", default: false },
    "scan-delay-ms": { type: "string" },
    "s3-cors-origins": { type: "string" },
    quiet: { type: "boolean", default: false },
    verbose: { type: "boolean", default: false },
  });
  const port = (flag: string | undefined, variable: string, fallback: number) => {
    const raw = flag ?? Deno.env.get(variable);
    if (raw === undefined || raw === "") return fallback;
    const n = Number(raw);
    if (!/^\d+$/.test(raw) || n > 65535) {
      exitWithUsage(
        USAGE,
        `${variable} must be a port number (0-65535), got ${JSON.stringify(raw)}`,
      );
    }
    return n;
  };
  const host = values.host ?? Deno.env.get("HOST") ?? "127.0.0.1";
  const s3Port = port(values["s3-port"], "S3_PORT", 4568);
  const participantPort = port(values["participant-port"], "PARTICIPANT_PORT", 8788);
  let workerPort = port(values["worker-port"], "WORKER_PORT", 8787);
  // Given, the limit is the worker's and the unconfigured instance's; not given, the worker
  // keeps its default (the instance decides) and the instance Amazon Connect's 20 MB.
  const maxGiven = values["max-bytes"] ?? Deno.env.get("MAX_ATTACHMENT_BYTES");
  const maxRaw = maxGiven ?? String(DEFAULT_CHAT_MAX_BYTES);
  if (!/^\d+$/.test(maxRaw) || Number(maxRaw) < 1) {
    exitWithUsage(USAGE, `MAX_ATTACHMENT_BYTES: not a size in bytes: ${maxRaw}`);
  }
  const maxAttachmentBytes = Number(maxRaw);
  const runtime = values.runtime ?? Deno.env.get("WORKER_RUNTIME") ?? "workerd";
  if (runtime !== "workerd" && runtime !== "deno") {
    exitWithUsage(USAGE, `--runtime must be workerd or deno, not ${runtime}`);
  }
  const scanningRaw = Deno.env.get("ATTACHMENT_SCANNING") ?? "off";
  if (!["on", "off"].includes(scanningRaw)) {
    exitWithUsage(USAGE, `ATTACHMENT_SCANNING must be on or off, not ${scanningRaw}`);
  }
  const delayRaw = values["scan-delay-ms"] ?? Deno.env.get("SCAN_DELAY_MS") ?? "1000";
  if (!/^\d+$/.test(delayRaw)) {
    exitWithUsage(USAGE, `SCAN_DELAY_MS: not a number of milliseconds: ${delayRaw}`);
  }
  const scanning = values.scanning || scanningRaw === "on"
    ? { delayMs: Number(delayRaw) }
    : undefined;
  const verbose = values.verbose;
  const log = values.quiet ? undefined : (line: string) => console.error(line);

  // Every port is checked before anything starts.
  assertPortFree(host, s3Port, "local S3", "S3_PORT");
  assertPortFree(host, participantPort, "Participant Service", "PARTICIPANT_PORT");
  assertPortFree(host, workerPort, "upload worker", "WORKER_PORT");
  if (workerPort === 0) workerPort = freePort(host);
  const corsRaw = values["s3-cors-origins"] ?? Deno.env.get("S3_CORS_ORIGINS");
  const s3CorsOrigins = corsRaw
    ? corsRaw.split(",").map((o) => o.trim()).filter(Boolean)
    : [`http://${host}:${workerPort}`];

  const stack = await startLocalStack({
    hostname: host,
    s3Port,
    participantPort,
    maxAttachmentBytes,
    scanning,
    s3CorsOrigins,
    log: log && ((line) => log(`service | ${line}`)),
  });
  let worker: RunningWorker | undefined;
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    await worker?.close().catch(() => {});
    await stack.close().catch(() => {});
    Deno.exit(code);
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const) {
    Deno.addSignalListener(signal, () => {
      console.log("\nstopping ...");
      stop(0);
    });
  }

  try {
    const vars = {
      PARTICIPANT_ENDPOINT: stack.participantUrl,
      UPLOAD_HOSTS: new URL(stack.s3.url).host,
      ...(maxGiven === undefined ? {} : { MAX_ATTACHMENT_BYTES: maxRaw }),
      CORS_ORIGINS: "*",
      DEV_PAGE: "true",
    };
    worker = runtime === "deno"
      ? await serveUnderDeno(host, workerPort, vars, log)
      : await serveInWorkerd(host, workerPort, vars, log, verbose);
    // Miniflare ends the process on SIGINT/SIGTERM at once (exit code 128 + signal); the
    // listeners above stop workerd themselves and remove the S3 data first, so they alone
    // decide.
    for (const signal of ["SIGINT", "SIGTERM"] as const) process.removeAllListeners(signal);
    worker.exited.then(() => {
      if (!stopping) {
        console.error("the upload worker stopped");
        stop(1);
      }
    });
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const chat = await openChat(client, "Local customer");
    const limit = maxGiven === undefined
      ? `the instance's, ${maxAttachmentBytes} bytes unless set`
      : `${maxAttachmentBytes} bytes`;
    printBanner(stack, worker.url, runtime, limit, chat, scanning, s3CorsOrigins);
  } catch (error) {
    console.error(`could not start: ${error instanceof Error ? error.message : error}`);
    await stop(1);
  }
  return await new Promise<number>(() => {});
}

async function serveInWorkerd(
  host: string,
  port: number,
  vars: Record<string, string>,
  log: ((line: string) => void) | undefined,
  verbose: boolean,
): Promise<RunningWorker> {
  console.log("bundling the worker with its development page ...");
  await buildWorkerBundle(DEV_WORKER_BUNDLE, { devPage: true });
  console.log("starting workerd ...");
  const worker = await startWorkerd({
    scriptPath: DEV_WORKER_BUNDLE,
    vars,
    hostname: host,
    port,
    // workerd never answers `Expect: 100-continue`; the relay in front of it does, so that the
    // banner's `curl -T` line sends its body at once.
    answerContinue: true,
    onLine: (line) => {
      const request = requestLine(line);
      if (request) log?.(request);
      else if (verbose || /error|Uncaught/i.test(line)) console.error(`workerd | ${line}`);
    },
  });
  return { url: worker.url, exited: new Promise(() => {}), close: worker.close };
}

async function serveUnderDeno(
  host: string,
  port: number,
  vars: Record<string, string>,
  log: ((line: string) => void) | undefined,
): Promise<RunningWorker> {
  const config = parseConfig(vars);
  const app = createApp(config, {
    ...DENO_EDGE,
    log: log && ((entry) => log(requestLine(JSON.stringify(entry))!)),
    devPage: config.devPage ? devPageFactory(await bundlePageScripts()) : undefined,
  });
  const server = Deno.serve({ hostname: host, port, onListen: () => {} }, app.fetch);
  return {
    url: `http://${host}:${server.addr.port}`,
    exited: server.finished,
    close: () => server.shutdown(),
  };
}

/**
 * Turns one of the worker's JSON request logs into a short line; other lines give `undefined`.
 * The path comes from the client: its control characters, bidirectional controls and line
 * separators are printed escaped (`\u000a`), so that no name can forge or disguise a line.
 */
function requestLine(line: string): string | undefined {
  const start = line.indexOf('{"method"');
  if (start < 0) return undefined;
  try {
    const entry = JSON.parse(line.slice(start));
    return `worker  | ${printable(String(entry.method))} ${printable(String(entry.path))} ${
      Number(entry.status)
    }${entry.code ? ` ${printable(String(entry.code))}` : ""} (${Number(entry.ms)} ms)`;
  } catch {
    return undefined;
  }
}

/** Control characters (C0, DEL, C1), bidirectional controls and line separators. */
const UNPRINTABLE =
  // deno-lint-ignore no-control-regex
  /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/g;

function printable(text: string): string {
  return text.replace(UNPRINTABLE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

function printBanner(
  stack: LocalStack,
  workerUrl: string,
  runtime: string,
  limit: string,
  chat: ChatSession,
  scanning: { delayMs: number } | undefined,
  s3CorsOrigins: string[],
): void {
  const rows: [string, string][] = [
    ["Local S3", `${stack.s3.url} (bucket ${stack.s3.bucket})`],
    ["S3 data", stack.s3.directory],
    ["Participant Service", stack.participantUrl],
    ["Fault injection", `${stack.participantUrl}/_local/faults`],
    ["Join as agent", `POST ${stack.participantUrl}/_local/chats/{ContactId}/agent`],
    ["Scanning", scanning ? `on (${scanning.delayMs} ms; EICAR is rejected)` : "off"],
    ["Bucket CORS origins", s3CorsOrigins.join(" ")],
    ["Upload worker", `${workerUrl} (${runtime}; limit ${limit})`],
    ["Worker API", `${workerUrl}/openapi.json`],
    ["Attachment page", `${workerUrl}/ (open it in a browser)`],
    ["Contact id", chat.contactId],
    ["ParticipantToken", chat.participantToken],
    ["ConnectionToken", chat.connectionToken],
  ];
  for (const [name, value] of rows) console.log(`${`${name}:`.padEnd(21)} ${value}`);
  console.log(`
Send a file into the chat in one request:

  curl -T file.pdf -H "X-Amz-Bearer: ${chat.connectionToken}" ${workerUrl}/attachments/
`);
  console.log("Ready. Ctrl+C stops the stack.");
}

if (import.meta.main) {
  try {
    Deno.exit(await main());
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
