/**
 * The upload worker's end-to-end cases, each a test of its own, run once per runtime
 * (`app_workerd_test.ts`, `app_deno_test.ts`): a real worker on a real port, the local
 * Participant Service and the verifying local S3 (with a TCP proxy in front of S3 for S3
 * failures), started for each case. After every case, the worker's logs are checked: requests
 * were logged, and no line shows the token or a pre-signed URL.
 *
 * @module
 */

import assert from "node:assert/strict";
import createClient from "npm:openapi-fetch@0.17.0";
import type { components } from "../generated/participant.ts";
import type { paths } from "../generated/worker.ts";
import { createParticipantClient, type ParticipantClient } from "../src/_core/client.ts";
import { openChat } from "../local/chat.ts";
import { startProxy, type TcpProxy } from "../testing/proxy.ts";
import { type LocalStack, startLocalStack } from "../local/stack.ts";
import { pieces, randomBytes, sha256 } from "../testing/data.ts";
import { type StartedWorker, startWorker, type WorkerRuntime } from "../testing/worker.ts";
import { servedWorkerSpec, workerFetch, workerRawHttp } from "./_worker_contract.ts";
import { CONNECT_MAX_ATTACHMENT_BYTES, DEFAULT_MAX_ATTACHMENT_BYTES } from "./_connect_limits.ts";

/** A problem details body, as the worker sends it. */
interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail: string;
  code: string;
  attachmentId?: string;
  upstream?: { service: string; name: string; status: number; requestId?: string };
}

/** What each case gets: the stack, the worker, a chat and the calls every case makes. */
interface App {
  stack: LocalStack;
  /** A proxy in front of the local S3, for S3 failures (the worker may upload through it). */
  proxy: TcpProxy;
  worker: StartedWorker;
  client: ParticipantClient;
  connectionToken: string;
  /** The token header. */
  auth: { "x-amz-bearer": string };
  /** Participant Service calls of an operation so far. */
  calls(operation: string): number;
  /** A `PUT` to the worker with the token. */
  put(path: string, init?: RequestInit): Promise<Response>;
  /** Checks a problem answer (status, type, code, no secret in it) and returns its body. */
  problem(response: Response, status: number, code: string): Promise<ProblemBody>;
  /** The attachments of the chat's transcript. */
  transcriptAttachments(): Promise<components["schemas"]["AttachmentItem"][]>;
}

/**
 * Starts the stack, the S3 proxy and the worker, opens a chat, runs a case, checks the
 * worker's logs and stops everything.
 */
async function withApp(runtime: WorkerRuntime, run: (app: App) => Promise<void>): Promise<void> {
  const serviceLog: string[] = [];
  const stack = await startLocalStack({
    s3Port: 0,
    participantPort: 0,
    log: (line) => serviceLog.push(line),
  });
  const s3Port = Number(new URL(stack.s3.url).port);
  const proxy = startProxy({ target: { hostname: "127.0.0.1", port: s3Port } });
  const worker = await startWorker({
    runtime,
    participantUrl: stack.participantUrl,
    uploadHosts: [new URL(stack.s3.url).host, new URL(proxy.url).host],
    corsOrigins: ["https://app.example"],
  }).catch(async (error) => {
    await proxy.close();
    await stack.close();
    throw error;
  });
  try {
    const client = createParticipantClient({ endpoint: stack.participantUrl });
    const { connectionToken } = await openChat(client);
    const auth = { "x-amz-bearer": connectionToken };
    await run({
      stack,
      proxy,
      worker,
      client,
      connectionToken,
      auth,
      calls: (operation) => serviceLog.filter((line) => line.includes(` ${operation} `)).length,
      put: (path, init = {}) =>
        workerFetch(`${worker.url}${path}`, {
          method: "PUT",
          ...init,
          headers: { ...auth, ...init.headers as Record<string, string> },
        }),
      async problem(response, status, code) {
        const text = await response.text();
        assert.equal(response.status, status, text);
        assert.equal(response.headers.get("content-type"), "application/problem+json");
        assert.ok(!text.includes(connectionToken), "the token never appears in an error");
        assert.ok(!text.includes("X-Amz-Signature"), "no pre-signed URL appears in an error");
        const body = JSON.parse(text) as ProblemBody;
        assert.equal(body.code, code, text);
        assert.equal(body.status, status);
        assert.equal(body.type, `urn:connect-attachments:problem:${code}`);
        assert.ok(body.title && body.detail, text);
        return body;
      },
      async transcriptAttachments() {
        const { data } = await client.getTranscript(connectionToken, { MaxResults: 100 });
        return data!.Transcript!.filter((item) => item.Type === "ATTACHMENT")
          .map((item) => item.Attachments![0]);
      },
    });
    await assertCleanLogs(worker, connectionToken);
  } finally {
    await worker.close();
    await proxy.close();
    await stack.close();
  }
}

/** Requests were logged, and no log line shows the token or a pre-signed URL. */
async function assertCleanLogs(worker: StartedWorker, connectionToken: string): Promise<void> {
  await worker.waitForLog((line) => line.includes('"path":'), 10_000); // requests were logged
  const logs = worker.logs.join("\n");
  assert.ok(!logs.includes(connectionToken), "the token never appears in the worker's logs");
  assert.ok(!logs.includes("X-Amz-Signature"), "no pre-signed URL appears in the worker's logs");
  // Deno.serve warns when a handler reads request.signal under its legacy abort (the
  // signal also firing after every successful response); deno.json opts out of it.
  assert.ok(!logs.includes("Deno.serve:"), logs);
}

/**
 * Registers the upload worker's end-to-end cases in one runtime, one test each.
 *
 * @param runtime Where the worker runs.
 */
export function appCases(runtime: WorkerRuntime): void {
  const test = (name: string, run: (app: App) => Promise<void>) =>
    Deno.test(`upload worker in ${runtime}: ${name}`, () => withApp(runtime, run));

  test("a 20 MB file in one request joins the chat and downloads intact", async ({ worker, auth, put, problem, transcriptAttachments }) => {
    const bytes = randomBytes(DEFAULT_MAX_ATTACHMENT_BYTES, 20);
    const response = await put("/attachments/report.pdf", { body: bytes });
    const text = await response.text();
    assert.equal(response.status, 201, text);
    const sent = JSON.parse(text);
    assert.deepEqual(Object.keys(sent).sort(), [
      "attachmentId",
      "completed",
      "contentType",
      "name",
      "size",
      "status",
    ]);
    assert.equal(sent.status, "APPROVED", "the service scans nothing: approved at once");
    assert.equal(response.headers.get("preference-applied"), null, "no Prefer, no wait");
    assert.equal(sent.name, "report.pdf");
    assert.equal(sent.contentType, "application/pdf", "inferred from the extension");
    assert.equal(sent.size, bytes.length);
    assert.equal(sent.completed, true);
    assert.equal(
      response.headers.get("location"),
      `/attachments/${encodeURIComponent(sent.attachmentId)}`,
    );

    const listed = (await transcriptAttachments()).find((a) =>
      a.AttachmentId === sent.attachmentId
    );
    assert.equal(listed?.AttachmentName, "report.pdf");
    assert.equal(listed?.ContentType, "application/pdf");

    const download = await workerFetch(`${worker.url}${response.headers.get("location")}`, {
      headers: auth,
    });
    assert.equal(download.status, 200);
    assert.equal(download.headers.get("content-type"), "application/pdf");
    assert.match(download.headers.get("content-disposition")!, /filename="report\.pdf"/);
    assert.equal(download.headers.get("content-length"), String(bytes.length));
    assert.equal(await sha256(await download.arrayBuffer()), await sha256(bytes));

    const ranged = await workerFetch(`${worker.url}${response.headers.get("location")}`, {
      headers: { ...auth, range: "bytes=1000-1999" },
    });
    assert.equal(ranged.status, 206);
    assert.equal(ranged.headers.get("content-range"), `bytes 1000-1999/${bytes.length}`);
    assert.deepEqual(new Uint8Array(await ranged.arrayBuffer()), bytes.subarray(1000, 2000));

    await problem(
      await workerFetch(`${worker.url}${response.headers.get("location")}`, {
        headers: { ...auth, range: `bytes=${bytes.length + 10}-` },
      }),
      416,
      "range_not_satisfiable",
    );
  });

  test("Authorization: Bearer works, and Content-Type wins over the name", async ({ worker, connectionToken, auth, put }) => {
    const response = await workerFetch(
      `${worker.url}/attachments/${encodeURIComponent("n ö.txt")}`,
      {
        method: "PUT",
        headers: {
          authorization: `Bearer ${connectionToken}`,
          "content-type": "text/csv; charset=utf-8",
        },
        body: "a,b\n1,2\n",
      },
    );
    assert.equal(response.status, 201, await response.clone().text());
    const sent = await response.json();
    assert.equal(sent.name, "n ö.txt");
    assert.equal(sent.contentType, "text/csv");
    const back = await workerFetch(`${worker.url}/attachments/${sent.attachmentId}`, {
      headers: auth,
    });
    assert.equal(await back.text(), "a,b\n1,2\n");
    assert.equal(back.headers.get("content-type"), "text/csv");

    // curl --data-binary sends application/x-www-form-urlencoded: the name decides.
    const formTyped = await put("/attachments/scan.png", {
      body: randomBytes(100),
      headers: { "content-type": "application/x-www-form-urlencoded" },
    });
    assert.equal((await formTyped.json()).contentType, "image/png");
  });

  test("Idempotency-Key: a retried request makes no second attachment", async ({ put, transcriptAttachments }) => {
    const before = (await transcriptAttachments()).length;
    const send = () =>
      put("/attachments/once.png", {
        body: randomBytes(5000, 3),
        headers: { "idempotency-key": "retry-me-123" },
      }).then((r) => r.json());
    const first = await send();
    const second = await send();
    assert.equal(second.attachmentId, first.attachmentId);
    assert.equal((await transcriptAttachments()).length, before + 1);
  });

  test("?complete=false uploads and leaves the completion to the caller", async ({ client, connectionToken, put, problem, transcriptAttachments }) => {
    const response = await put("/attachments/later.pdf?complete=false", {
      body: randomBytes(3000),
    });
    const sent = await response.json();
    assert.equal(response.status, 201);
    assert.equal(sent.completed, false);
    const listed = () =>
      transcriptAttachments().then((all) => all.some((a) => a.AttachmentId === sent.attachmentId));
    assert.equal(await listed(), false);
    const done = await client.completeAttachmentUpload(connectionToken, {
      AttachmentIds: [sent.attachmentId],
    });
    assert.equal(done.error, undefined);
    assert.equal(await listed(), true);
    await problem(
      await put("/attachments/x.pdf?complete=maybe", { body: "x" }),
      400,
      "invalid_query",
    );
  });

  test("refusals that need no upstream call make none", async ({ worker, connectionToken, calls, put, problem }) => {
    const starts = calls("StartAttachmentUpload");

    await problem(await put("/attachments/", { body: "x" }), 400, "invalid_name");
    await problem(await put("/attachments/a%2Fb.pdf", { body: "x" }), 400, "invalid_name");
    await problem(
      await put(`/attachments/${"n".repeat(260)}.pdf`, { body: "x" }),
      400,
      "invalid_name",
    );
    await problem(
      await put("/attachments/a.pdf", {
        body: "x",
        headers: { "idempotency-key": "has space" },
      }),
      400,
      "invalid_idempotency_key",
    );

    const anonymous = await workerFetch(`${worker.url}/attachments/a.pdf`, {
      method: "PUT",
      body: "x",
    });
    assert.match(anonymous.headers.get("www-authenticate") ?? "", /^Bearer/);
    // Uploads and downloads alike say how to send the token.
    const howToSend = /send the chat participant's ConnectionToken in the X-Amz-Bearer header/;
    assert.match((await problem(anonymous, 401, "missing_token")).detail, howToSend);
    const anonymousDownload = await workerFetch(`${worker.url}/attachments/some-id`);
    assert.match((await problem(anonymousDownload, 401, "missing_token")).detail, howToSend);

    // A stream body goes out chunked: no Content-Length, so it cannot be forwarded to S3.
    const chunked = await put("/attachments/a.pdf", {
      body: ReadableStream.from([new Uint8Array(10)]),
    });
    const lengthProblem = await problem(chunked, 411, "length_required");
    assert.match(lengthProblem.detail, /curl -T/);

    // Only the head is sent: over Amazon Connect's bound (which no instance exceeds), the size
    // is refused from Content-Length alone, before any byte. (The instance's own limits are the
    // service's to apply: app_instance_limits_test.ts.)
    const tooLarge = await workerRawHttp({
      url: `${worker.url}/attachments/big.pdf`,
      headers: {
        "X-Amz-Bearer": connectionToken,
        "Content-Length": String(CONNECT_MAX_ATTACHMENT_BYTES + 1),
      },
    });
    assert.equal(tooLarge!.status, 413, tooLarge!.text);
    assert.equal(JSON.parse(tooLarge!.text).code, "too_large");

    await problem(await put("/attachments/a.pdf", { body: "" }), 400, "empty");
    await problem(await put("/attachments/x.txt%20%20", { body: "x" }), 400, "invalid_name");
    await problem(await put("/attachments/notes", { body: "x" }), 415, "unsupported_type");
    await problem(
      await put("/attachments/a.pdf", { body: "x", headers: { "content-type": "PDF" } }),
      415,
      "unsupported_type",
    );

    assert.equal(calls("StartAttachmentUpload"), starts, "no upstream call was made");
  });

  test("403 when the service refuses the token", async ({ worker, auth, problem }) => {
    const refused = await workerFetch(`${worker.url}/attachments/a.pdf`, {
      method: "PUT",
      headers: { "x-amz-bearer": "not-a-token" },
      body: "x",
    });
    const body = await problem(refused, 403, "access_denied");
    assert.equal(body.upstream?.service, "participant");
    assert.equal(body.upstream?.name, "AccessDeniedException");
    assert.ok(body.upstream?.requestId, "the service's request id is passed on");
    await problem(
      await workerFetch(`${worker.url}/attachments/some-id`, {
        headers: { "x-amz-bearer": "nope" },
      }),
      403,
      "access_denied",
    );
    await problem(
      await workerFetch(`${worker.url}/attachments/no-such-id`, { headers: auth }),
      404,
      "attachment_not_found",
    );
  });

  test("429 with Retry-After when the service keeps throttling", async ({ stack, put, problem }) => {
    stack.service.faults.add({
      operation: "StartAttachmentUpload",
      kind: "throttle",
      count: 3,
    });
    try {
      const throttled = await put("/attachments/a.pdf", { body: "x" });
      assert.ok(Number(throttled.headers.get("retry-after")) >= 1);
      const body = await problem(throttled, 429, "throttled");
      assert.equal(body.upstream?.name, "ThrottlingException");
      assert.equal(body.upstream?.status, 429);
    } finally {
      stack.service.faults.clear();
    }
  });

  test("502 when the service fails, with its error name and request id", async ({ stack, put, problem, transcriptAttachments }) => {
    stack.service.faults.add({ operation: "StartAttachmentUpload", kind: "error", count: 3 });
    try {
      const body = await problem(
        await put("/attachments/a.pdf", { body: "x" }),
        502,
        "service_unavailable",
      );
      assert.equal(body.upstream?.name, "InternalServerException");
      assert.equal(body.upstream?.status, 500);
      assert.ok(body.upstream?.requestId);
    } finally {
      stack.service.faults.clear();
    }

    // The bytes reach S3 but the completion keeps failing: the answer says so, and the
    // attachment does not join the chat.
    stack.service.faults.add({
      operation: "CompleteAttachmentUpload",
      kind: "error",
      count: 3,
    });
    try {
      const body = await problem(
        await put("/attachments/uncompleted.pdf", { body: randomBytes(2000) }),
        502,
        "service_unavailable",
      );
      assert.ok(body.attachmentId);
      const listed = await transcriptAttachments();
      assert.ok(!listed.some((a) => a.AttachmentId === body.attachmentId));
    } finally {
      stack.service.faults.clear();
    }
  });

  test("502 when S3 fails or refuses, with its error code and request id", async ({ stack, proxy, put, problem, transcriptAttachments }) => {
    stack.service.s3.publicUrl = proxy.url;
    try {
      proxy.inject({ kind: "respond", status: 503, code: "SlowDown" });
      const failed = await problem(
        await put("/attachments/a.pdf", { body: "x" }),
        502,
        "upload_failed",
      );
      assert.equal(failed.upstream?.service, "s3");
      assert.equal(failed.upstream?.name, "SlowDown");
      assert.equal(failed.upstream?.status, 503);
      assert.match(failed.upstream?.requestId ?? "", /^[0-9A-F]{16}$/);

      proxy.inject({ kind: "respond", status: 403, code: "SignatureDoesNotMatch" });
      const refused = await problem(
        await put("/attachments/a.pdf", { body: "x" }),
        502,
        "upload_refused",
      );
      assert.equal(refused.upstream?.name, "SignatureDoesNotMatch");
      assert.ok(refused.attachmentId);
      assert.ok(
        !(await transcriptAttachments()).some((a) => a.AttachmentId === refused.attachmentId),
        "a refused upload is never completed",
      );

      // S3 cannot be reached at all.
      proxy.inject({ kind: "reset", afterBytes: 0 });
      await problem(await put("/attachments/a.pdf", { body: "x" }), 502, "upload_failed");
    } finally {
      stack.service.s3.publicUrl = undefined;
    }
  });

  test("a client that hangs up halfway leaves no completed attachment", async ({ stack, worker, connectionToken, calls, transcriptAttachments }) => {
    const completes = calls("CompleteAttachmentUpload");
    const size = 4 * 1024 * 1024;
    const answer = await workerRawHttp({
      url: `${worker.url}/attachments/interrupted.pdf`,
      headers: { "X-Amz-Bearer": connectionToken, "Content-Length": String(size) },
      body: pieces(randomBytes(size, 9), 64 * 1024),
      hangUpAfterBytes: size / 2,
    });
    assert.equal(answer, undefined);
    // The worker logs each request when it has answered it: wait for this one.
    const line = await worker.waitForLog((l) =>
      l.includes('"path":"/attachments/interrupted.pdf"')
    );
    const entry = JSON.parse(line.slice(line.indexOf("{")));
    assert.equal(entry.status, 502);
    assert.equal(entry.code, "upload_failed");
    assert.equal(calls("CompleteAttachmentUpload"), completes, "no completion was sent");
    assert.ok(
      !(await transcriptAttachments()).some((a) => a.AttachmentName === "interrupted.pdf"),
    );
    const made = stack.service.store.attachments().filter((a) => a.name === "interrupted.pdf");
    assert.equal(made.length, 1, "the upload had started");
    assert.equal(made[0].completed, false);
  });

  test("health, OpenAPI and CORS", async ({ worker, put, problem }) => {
    const typed = createClient<paths>({ baseUrl: worker.url, fetch: workerFetch });
    const health = await typed.GET("/healthz");
    assert.deepEqual(health.data, { status: "ok" });
    // The document served is worker/openapi.yaml as it is on disk (without its prose).
    const spec = await workerFetch(`${worker.url}/openapi.json`);
    assert.deepEqual(await spec.json(), servedWorkerSpec());
    await problem(await workerFetch(`${worker.url}/nothing-here`), 404, "not_found");

    const preflight = await workerFetch(`${worker.url}/attachments/a.pdf`, {
      method: "OPTIONS",
      headers: {
        origin: "https://app.example",
        "access-control-request-method": "PUT",
        "access-control-request-headers": "x-amz-bearer, idempotency-key, content-type",
      },
    });
    await preflight.body?.cancel();
    assert.equal(preflight.headers.get("access-control-allow-origin"), "https://app.example");
    assert.match(preflight.headers.get("access-control-allow-headers") ?? "", /X-Amz-Bearer/i);
    assert.match(preflight.headers.get("access-control-allow-methods") ?? "", /PUT/);
    const foreign = await workerFetch(`${worker.url}/healthz`, {
      headers: { origin: "https://evil.example" },
    });
    await foreign.body?.cancel();
    assert.equal(foreign.headers.get("access-control-allow-origin"), null);

    const uploaded = await put("/attachments/cors.txt", {
      body: "hi",
      headers: { origin: "https://app.example" },
    });
    await uploaded.body?.cancel();
    assert.match(uploaded.headers.get("access-control-expose-headers") ?? "", /Location/);
  });

  test("requests are logged, none with the token, through every outcome", async (app) => {
    // Every case ends with this check; this one makes the outcomes meet in one log: an
    // upload, a download, a refusal by the service and a refusal by S3.
    const sent = await (await app.put("/attachments/log.pdf", { body: randomBytes(1000) })).json();
    const back = await workerFetch(`${app.worker.url}/attachments/${sent.attachmentId}`, {
      headers: app.auth,
    });
    await back.body?.cancel();
    await app.problem(
      await workerFetch(`${app.worker.url}/attachments/a.pdf`, {
        method: "PUT",
        headers: { "x-amz-bearer": "not-a-token" },
        body: "x",
      }),
      403,
      "access_denied",
    );
    app.stack.service.s3.publicUrl = app.proxy.url;
    app.proxy.inject({ kind: "respond", status: 403, code: "SignatureDoesNotMatch" });
    await app.problem(await app.put("/attachments/a.pdf", { body: "x" }), 502, "upload_refused");
    assert.ok(app.worker.logs.length >= 4, app.worker.logs.join("\n"));
  });
}
