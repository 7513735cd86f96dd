/// <reference lib="dom" />
/**
 * The topologies (`bench/topologies.ts`) from a real browser: the page's one-request upload
 * (`src/browser.ts`) through the worker at the user's edge and next to AWS, against
 * amazon-connect-chatjs's `sendAttachment` (its own three calls, straight to the Participant
 * Service and S3), unchanged, in headless Chromium. Timed in the page: until chatjs's
 * `sendAttachment` resolves (after CompleteAttachmentUpload), and until the worker's 201.
 *
 * @module
 */

import { chromium } from "npm:playwright-core@1.65.1";
import type { Browser } from "npm:playwright-core@1.65.1";
import type { Plan } from "../plan.ts";
import type { FigureResult } from "../report.ts";
import { CHROMIUM_ARGS, CHROMIUM_PATH, hasChromium } from "../../testing/browser.ts";
import { bundleForBrowser } from "../bundling.ts";
import { bodyStream } from "../body.ts";
import { type UploadOutcome, verifyUpload } from "../uploads.ts";
import {
  ConnectionTally,
  keepWarm,
  launchTopologies,
  pathLabel,
  type Topologies,
  type TopologyPath,
  WARM_PATHS,
  type WarmPath,
} from "../topologies.ts";
import { topologyNotes, topologyRows } from "./topology.ts";
import { mibText } from "./throughput.ts";
import type { ChatSession } from "../../local/chat.ts";

const CHATJS = new URL(
  "../../node_modules/amazon-connect-chatjs/dist/amazon-connect-chat.js",
  import.meta.url,
);

/** One timed upload in the browser. */
interface BrowserSample {
  size: number;
  path: TopologyPath;
  ms: number;
  error?: string;
}

/** What a page evaluation answers. */
interface PageOutcome {
  ms: number;
  attachmentId?: string;
  error?: string;
}

/**
 * Runs the browser figure.
 *
 * @param plan The browser sizes and uploads, and the topologies (`plan.topology`).
 * @param log Progress lines.
 * @returns Per size: chatjs's three calls, and the page's upload through each worker
 * topology as a ratio against it.
 */
export async function browserFigure(
  plan: Plan,
  log: (line: string) => void,
): Promise<FigureResult> {
  const t = plan.topology;
  const labels: Partial<Record<TopologyPath, string>> = {
    "three-call": `(a) chatjs sendAttachment, three calls (client↔AWS ${t.clientAwsRttMs} ms)`,
    edge: `${pathLabel(t, "edge")}: src/browser.ts uploadFile`,
    near: `${pathLabel(t, "near")}: src/browser.ts uploadFile`,
  };
  if (!hasChromium) {
    return {
      figure: "browser",
      rows: [{
        figure: "browser",
        measure: "chatjs sendAttachment against src/browser.ts in Chromium",
        result: `not measured: no Chromium at ${CHROMIUM_PATH} (set CHROMIUM_PATH)`,
        target: "",
        verdict: "info",
      }],
      notes: [],
      data: {},
    };
  }
  const page = await startPageServer();
  let topologies: Topologies | undefined;
  let browser: Browser | undefined;
  let tally: ConnectionTally | undefined;
  const samples: BrowserSample[] = [];
  try {
    topologies = await launchTopologies(
      t,
      Math.max(...t.browserSizes),
      plan.launcher,
      page.origin,
    );
    tally = new ConnectionTally(topologies);
    browser = await chromium.launch({
      executablePath: CHROMIUM_PATH,
      args: [...CHROMIUM_ARGS],
      headless: true,
    });
    const chats = {
      edge: await topologies.edge.stack.openChat(),
      near: await topologies.near.stack.openChat(),
    };
    // One warm-up per path opens the workers' upstream connections, which they keep.
    const warmups = 1;
    for (const size of t.browserSizes) {
      for (let i = -warmups; i < t.browserUploads; i++) {
        const body = { size, seed: 30_000 + size % 997 + i };
        const order = WARM_PATHS.map((_, k) => WARM_PATHS[(k + i + warmups) % WARM_PATHS.length]);
        for (const path of order) {
          const outcome = await uploadInBrowser(
            browser,
            topologies,
            page.origin,
            path,
            body,
            chats,
            i >= 0 ? tally : undefined,
          );
          if (i >= 0) samples.push({ size, path, ms: outcome.ms, error: outcome.error });
          if (outcome.error) log(`browser ${mibText(size)} ${path} #${i}: ERROR ${outcome.error}`);
        }
      }
      log(`browser ${mibText(size)}: ${t.browserUploads} uploads per path`);
    }
  } finally {
    await browser?.close();
    await topologies?.close();
    await page.close();
  }
  return {
    figure: "browser",
    rows: topologyRows("browser", t, t.browserSizes, samples, WARM_PATHS, labels, false),
    notes: [
      `In headless Chromium (${CHROMIUM_PATH}, driven by playwright-core), the same three ` +
      "topologies as the topology figure, from a page on another origin. (a) is " +
      "amazon-connect-chatjs 5.0.0, unchanged (ChatSession.setGlobalConfig points it at the " +
      "local service through the client↔AWS link): connect(), then the timed " +
      "sendAttachment, which resolves after CompleteAttachmentUpload. (b) and (c) are " +
      "src/browser.ts's uploadFile (one XMLHttpRequest PUT), timed until the worker's " +
      "201. Each upload runs in a fresh browser context (no pooled connections, no cached " +
      "CORS preflights: a first upload); chatjs's connect() before it leaves a connection to " +
      "the service open, which its Start and Complete then use, as in a chat in progress. " +
      "Cross-origin, the browser sends CORS preflights: chatjs one before each of its three " +
      "calls, the page one before its PUT. The time runs from the call to its settling, " +
      "measured in the page (performance.now), with the file already in memory.",
      `Each path uploads ${t.browserUploads} bodies per size after one warm-up, interleaved ` +
      "and rotated; every upload is checked in S3 afterwards (size, MD5, completion).",
      "Connections opened per timed upload, counted at the proxies (for (a), chatjs's " +
      `connect() and its websocket included): ${tally!.describe()}.`,
      ...topologyNotes(t).slice(1),
    ],
    data: { samples, connections: tally!.perUpload() },
  };
}

/** One upload on a path in a fresh browser context, timed in the page, then checked. */
async function uploadInBrowser(
  browser: Browser,
  topologies: Topologies,
  origin: string,
  path: WarmPath,
  body: { size: number; seed: number },
  chats: { edge: ChatSession; near: ChatSession },
  tally: ConnectionTally | undefined,
): Promise<UploadOutcome> {
  const counted = <T>(run: () => Promise<T>) => tally ? tally.around(path, run) : run();
  const stack = path === "three-call" ? topologies.direct : topologies[path].stack;
  const context = await browser.newContext();
  let outcome: PageOutcome;
  try {
    const page = await context.newPage();
    await page.goto(`${origin}/`);
    const bodyUrl = `${origin}/body/${body.size}/${body.seed}`;
    const name = `browser-${body.seed}.pdf`;
    if (path === "three-call") {
      // A customer front end's back end starts the chat (StartChatContact), untimed.
      const started = await fetch(`${stack.participantUrl}/contact/chat`, {
        method: "PUT",
        body: JSON.stringify({
          InstanceId: "local-instance",
          ContactFlowId: "local-flow",
          ParticipantDetails: { DisplayName: "Customer" },
        }),
      }).then((r) => r.json());
      outcome = await counted(() =>
        page.evaluate(chatjsUpload, {
          endpoint: stack.participantUrl,
          chatDetails: {
            ContactId: started.ContactId,
            ParticipantId: started.ParticipantId,
            ParticipantToken: started.ParticipantToken,
          },
          bodyUrl,
          name,
        })
      );
    } else {
      await keepWarm(topologies[path], chats[path]);
      outcome = await counted(() =>
        page.evaluate(workerUpload, {
          moduleUrl: `${origin}/browser.js`,
          endpoint: topologies[path].front.url,
          token: chats[path].connectionToken,
          bodyUrl,
          name,
        })
      );
    }
  } catch (error) {
    outcome = {
      ms: NaN,
      error: error instanceof Error ? error.message.split("\n")[0] : String(error),
    };
  } finally {
    await context.close();
  }
  return await verifyUpload(stack, outcome, body, true);
}

/** In the page: chatjs connects, then sends the file; only sendAttachment is timed. */
async function chatjsUpload(args: {
  endpoint: string;
  chatDetails: Record<string, string>;
  bodyUrl: string;
  name: string;
}): Promise<PageOutcome> {
  // deno-lint-ignore no-explicit-any
  const connect = (globalThis as any).connect;
  connect.ChatSession.setGlobalConfig({ region: "us-east-1", endpoint: args.endpoint });
  const session = connect.ChatSession.create({
    chatDetails: args.chatDetails,
    type: connect.ChatSession.SessionTypes.CUSTOMER,
    options: { region: "us-east-1" },
  });
  const established = new Promise<void>((resolve) => session.onConnectionEstablished(resolve));
  const connected = await session.connect();
  if (!connected?.connectSuccess) return { ms: NaN, error: "chatjs connect() failed" };
  await Promise.race([established, new Promise((r) => setTimeout(r, 10_000))]);
  const blob = await (await fetch(args.bodyUrl)).blob();
  const file = new File([blob], args.name, { type: "application/pdf" });
  const started = performance.now();
  try {
    await session.sendAttachment({ attachment: file });
  } catch (error) {
    return { ms: performance.now() - started, error: `sendAttachment: ${JSON.stringify(error)}` };
  }
  const ms = performance.now() - started;
  const transcript = await session.getTranscript({ maxResults: 15, sortOrder: "ASCENDING" });
  const item = transcript.data.Transcript.find((i: { Type: string }) => i.Type === "ATTACHMENT");
  return { ms, attachmentId: item?.Attachments?.[0]?.AttachmentId };
}

/** In the page: the browser client uploads the file to the worker; the upload is timed. */
async function workerUpload(args: {
  moduleUrl: string;
  endpoint: string;
  token: string;
  bodyUrl: string;
  name: string;
}): Promise<PageOutcome> {
  const client = await import(args.moduleUrl);
  const blob = await (await fetch(args.bodyUrl)).blob();
  const file = new File([blob], args.name, { type: "application/pdf" });
  const started = performance.now();
  try {
    const sent = await client.uploadFile(file, {
      endpoint: args.endpoint,
      token: args.token,
    });
    return { ms: performance.now() - started, attachmentId: sent.attachmentId };
  } catch (error) {
    return { ms: performance.now() - started, error: `uploadFile: ${String(error)}` };
  }
}

/**
 * The page's own origin (not behind any link: a site the page was loaded from earlier): the
 * page with chatjs, the browser client bundled from `src/browser.ts`, and the bodies.
 */
async function startPageServer(): Promise<{ origin: string; close(): Promise<void> }> {
  const out = new URL("../out/", import.meta.url).pathname;
  await Deno.mkdir(out, { recursive: true });
  const dir = await Deno.makeTempDir({ dir: out, prefix: "browser-figure-" });
  await bundleForBrowser(
    new URL("../../src/browser.ts", import.meta.url).pathname,
    `${dir}/browser.js`,
  );
  const client = await Deno.readTextFile(`${dir}/browser.js`);
  const chatjs = await Deno.readTextFile(CHATJS);
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (request) => {
    const path = new URL(request.url).pathname;
    const script = (text: string) =>
      new Response(text, { headers: { "content-type": "text/javascript" } });
    if (path === "/amazon-connect-chat.js") return script(chatjs);
    if (path === "/browser.js") return script(client);
    const body = /^\/body\/(\d+)\/(\d+)$/.exec(path);
    if (body) {
      const size = Number(body[1]);
      return new Response(bodyStream(size, Number(body[2])), {
        headers: { "content-type": "application/octet-stream", "content-length": String(size) },
      });
    }
    return new Response(
      '<!doctype html><title>upload</title><script src="/amazon-connect-chat.js"></script>',
      { headers: { "content-type": "text/html" } },
    );
  });
  return {
    origin: `http://127.0.0.1:${server.addr.port}`,
    async close() {
      await server.shutdown();
      await Deno.remove(dir, { recursive: true });
    },
  };
}
