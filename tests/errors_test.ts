import assert from "node:assert/strict";
import { createParticipantClient } from "../src/client.ts";
import { isRetryableStatus, sanitizeErrorName, transportError } from "../src/errors.ts";
import { serveTiny } from "./_http.ts";

Deno.test("sanitizeErrorName keeps only the shape name", () => {
  const cases: [string, string][] = [
    ["ValidationException", "ValidationException"],
    ["aws#AccessDeniedException:http://internal.amazon.com/coral/", "AccessDeniedException"],
    [
      "com.amazonaws.connectparticipant#ThrottlingException:http://internal.amazon.com/coral/com.amazon.coral.service/",
      "ThrottlingException",
    ],
    ["aws.protocols#ConflictException", "ConflictException"],
    ["InternalServerException:http://example.com/x#y", "InternalServerException"],
    ["  ServiceQuotaExceededException  ", "ServiceQuotaExceededException"],
    ["AccessDeniedException, AccessDeniedException", "AccessDeniedException"],
  ];
  for (const [raw, name] of cases) assert.equal(sanitizeErrorName(raw), name, raw);
});

Deno.test("isRetryableStatus: 429 and 5xx only", () => {
  for (const status of [429, 500, 502, 503, 504, 599]) {
    assert.equal(isRetryableStatus(status), true);
  }
  for (const status of [200, 400, 402, 403, 404, 409, 413, 499, 600]) {
    assert.equal(isRetryableStatus(status), false, String(status));
  }
});

Deno.test("transportError names time-outs apart from other failures", () => {
  const timeout = transportError(new DOMException("slow", "TimeoutError"));
  assert.deepEqual([timeout.name, timeout.status, timeout.retryable], ["TimeoutError", 0, true]);
  const reset = transportError(new TypeError("connection reset"));
  assert.equal(reset.name, "NetworkError");
  assert.match(reset.message, /connection reset/);
});

/** Answers keyed by the bearer token the test sends. */
const ANSWERS: Record<string, () => Response> = {
  "header-with-url": () =>
    Response.json({ message: "lower-case message" }, {
      status: 400,
      headers: {
        "X-Amzn-ErrorType": "ValidationException:http://internal.amazon.com/coral/",
        "X-Amzn-RequestId": "req-1",
      },
    }),
  "body-code": () =>
    Response.json({ code: "ThrottlingException", Message: "Rate exceeded" }, {
      status: 429,
      headers: { "x-amzn-requestid": "req-2" },
    }),
  "body-type": () =>
    Response.json({
      __type: "com.amazonaws.connectparticipant#AccessDeniedException",
      message: "expired",
    }, { status: 403 }),
  "header-wins": () =>
    Response.json({ code: "Other", __type: "x#Another", Message: "m" }, {
      status: 409,
      headers: { "X-Amzn-ErrorType": "ConflictException" },
    }),
  "code-before-type": () =>
    Response.json({ code: "ServiceQuotaExceededException", __type: "x#Another", Message: "m" }, {
      status: 402,
    }),
  "not-json": () =>
    new Response("<html><body>Bad gateway</body></html>", {
      status: 502,
      headers: { "content-type": "text/html" },
    }),
  "empty": () => new Response(null, { status: 500 }),
};

Deno.test("error answers reach the caller typed, whatever form the name takes", async (t) => {
  const server = serveTiny((request) => ANSWERS[request.headers.get("x-amz-bearer")!]());
  const client = createParticipantClient({ endpoint: server.url, retry: false });
  const expect = async (
    token: string,
    want: { name: string; message: string | RegExp; status: number; requestId?: string },
  ) => {
    const { data, error, response } = await client.getTranscript(token);
    assert.equal(data, undefined);
    assert.ok(error);
    assert.equal(error.name, want.name);
    if (typeof want.message === "string") assert.equal(error.message, want.message);
    else assert.match(error.message, want.message);
    assert.equal(error.status, want.status);
    assert.equal(response?.status, want.status);
    assert.equal(error.requestId, want.requestId);
    assert.equal(error.retryable, want.status === 429 || want.status >= 500);
  };
  try {
    await t.step(
      "X-Amzn-ErrorType with a URL suffix; lower-case message",
      () =>
        expect("header-with-url", {
          name: "ValidationException",
          message: "lower-case message",
          status: 400,
          requestId: "req-1",
        }),
    );
    await t.step("no header: the body's code", () =>
      expect("body-code", {
        name: "ThrottlingException",
        message: "Rate exceeded",
        status: 429,
        requestId: "req-2",
      }));
    await t.step(
      "no header, no code: the body's __type, namespace stripped",
      () => expect("body-type", { name: "AccessDeniedException", message: "expired", status: 403 }),
    );
    await t.step(
      "the header wins over the body",
      () => expect("header-wins", { name: "ConflictException", message: "m", status: 409 }),
    );
    await t.step("code wins over __type", () =>
      expect("code-before-type", {
        name: "ServiceQuotaExceededException",
        message: "m",
        status: 402,
      }));
    await t.step(
      "a body that is not JSON: UnknownError with the body's text",
      () => expect("not-json", { name: "UnknownError", message: /Bad gateway/, status: 502 }),
    );
    await t.step(
      "no body at all: UnknownError with the status text",
      () =>
        expect("empty", {
          name: "UnknownError",
          message: /Internal Server Error|HTTP 500/,
          status: 500,
        }),
    );
  } finally {
    await server.close();
  }
});
