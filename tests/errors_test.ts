import assert from "node:assert/strict";
import { createParticipantClient } from "../src/_core/client.ts";
import { AttachmentError, type AttachmentErrorCode } from "../src/_core/errors.ts";
import {
  isRetryableStatus,
  s3Failure,
  sanitizeErrorName,
  serviceErrorCode,
  serviceFailure,
  transportError,
} from "../src/_core/upstream.ts";
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

/** The one client (on openapi-fetch), which the library and the worker share. */
const CLIENTS = [["createParticipantClient", createParticipantClient]] as const;

for (const [kind, create] of CLIENTS) {
  Deno.test(`${kind}: error answers reach the caller typed, whatever form the name takes`, async (t) => {
    const server = serveTiny((request) => ANSWERS[request.headers.get("x-amz-bearer")!]());
    const client = create({ endpoint: server.url, retry: false });
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
        () =>
          expect("body-type", { name: "AccessDeniedException", message: "expired", status: 403 }),
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
}

Deno.test("createParticipantClient runs its middleware on every call; the calls fill a ClientToken and send the token as X-Amz-Bearer", async () => {
  const seen: { path: string; bearer: string | null; body: Record<string, unknown> }[] = [];
  const server = serveTiny(async (request) => {
    seen.push({
      path: new URL(request.url).pathname,
      bearer: request.headers.get("x-amz-bearer"),
      body: await request.json(),
    });
    return Response.json({});
  });
  const through: string[] = [];
  try {
    const client = createParticipantClient({
      endpoint: server.url,
      retry: false,
      middleware: [{
        onRequest: ({ request }) => {
          through.push(`request ${new URL(request.url).pathname}`);
        },
        onResponse: ({ response }) => {
          through.push(`response ${response.status}`);
        },
      }],
    });
    const started = await client.startAttachmentUpload("token-1", {
      AttachmentName: "a.pdf",
      ContentType: "application/pdf",
      AttachmentSizeInBytes: 1,
    });
    assert.deepEqual(started.data, {});
    const completed = await client.completeAttachmentUpload("token-1", {
      AttachmentIds: ["id"],
      ClientToken: "mine",
    });
    assert.deepEqual(completed.data, {});
    assert.deepEqual(through, [
      "request /participant/start-attachment-upload",
      "response 200",
      "request /participant/complete-attachment-upload",
      "response 200",
    ]);
    assert.deepEqual(seen.map((s) => [s.path, s.bearer]), [
      ["/participant/start-attachment-upload", "token-1"],
      ["/participant/complete-attachment-upload", "token-1"],
    ]);
    assert.match(String(seen[0].body.ClientToken), /^[0-9a-f-]{36}$/);
    assert.equal(seen[1].body.ClientToken, "mine");
  } finally {
    await server.close();
  }
});

Deno.test("one mapping from a service error to a code, whatever the call", () => {
  const error = (name: string, status: number) => ({
    name,
    message: "m",
    status,
    retryable: status === 429 || status >= 500 || status === 0,
  });
  const calls = [
    "CreateParticipantConnection",
    "StartAttachmentUpload",
    "CompleteAttachmentUpload",
    "GetAttachment",
    "GetTranscript",
  ] as const;
  for (const call of calls) {
    assert.equal(serviceErrorCode(error("AccessDeniedException", 403), call), "access_denied");
    assert.equal(serviceErrorCode(error("ThrottlingException", 429), call), "throttled");
    assert.equal(
      serviceErrorCode(error("InternalServerException", 500), call),
      "service_unavailable",
    );
    assert.equal(serviceErrorCode(error("NetworkError", 0), call), "service_unavailable");
  }
  const refused = error("ValidationException", 400);
  assert.equal(serviceErrorCode(refused, "StartAttachmentUpload"), "rejected_by_service");
  assert.equal(serviceErrorCode(refused, "CompleteAttachmentUpload"), "completion_failed");
  assert.equal(serviceErrorCode(refused, "GetAttachment"), "attachment_not_found");
  assert.equal(serviceErrorCode(refused, "GetTranscript"), "rejected_by_service");
  assert.equal(
    serviceErrorCode(error("ServiceQuotaExceededException", 402), "StartAttachmentUpload"),
    "quota_exceeded",
  );
  assert.equal(
    serviceErrorCode(error("ConflictException", 409), "CompleteAttachmentUpload"),
    "completion_failed",
  );

  const failure = serviceFailure("GetTranscript", {
    ...error("AccessDeniedException", 403),
    requestId: "r-1",
  });
  assert.ok(failure instanceof AttachmentError);
  assert.equal(failure.stage, "list");
  assert.equal(failure.message, "GetTranscript failed: AccessDeniedException: m");
  assert.deepEqual(failure.upstream, {
    service: "participant",
    name: "AccessDeniedException",
    status: 403,
    requestId: "r-1",
  });
  assert.equal(failure.retryable, false);
});

/**
 * ValidationException messages of StartAttachmentUpload, and the code each must make: the
 * local service's own refusals (its exact words), usual wordings of a size or type refusal,
 * and messages about malformed members that must stay `rejected_by_service`.
 */
const START_VALIDATION_MESSAGES: [string, string][] = [
  ["The attachment is 62914560 bytes; this instance accepts at most 52428800 bytes", "too_large"],
  ["Attachment size exceeds the limit of 20 MB", "too_large"],
  ["File is too large", "too_large"],
  ["The file size 30000000 is larger than the maximum size allowed", "too_large"],
  [
    "The extension .png is not allowed for chat attachments on this instance; allowed: .zip .pdf",
    "unsupported_type",
  ],
  [
    "A name without an extension is not allowed for chat attachments on this instance; allowed: .pdf",
    "unsupported_type",
  ],
  ["File type not supported", "unsupported_type"],
  ["Unsupported file extension: exe", "unsupported_type"],
  ["Invalid content type", "unsupported_type"],
  ["ContentType must be 1 to 255 characters long", "rejected_by_service"],
  [
    "AttachmentSizeInBytes must be a whole number from 1 to 9007199254740991",
    "rejected_by_service",
  ],
  ["AttachmentName must be 1 to 256 characters long", "rejected_by_service"],
  ["AttachmentName exceeds the maximum length of 256 characters", "rejected_by_service"],
  ["ClientToken was already used with other parameters", "rejected_by_service"],
  ["1 validation error detected", "rejected_by_service"],
];

Deno.test("StartAttachmentUpload's refusals of a size or extension become too_large and unsupported_type, from their message", () => {
  for (const [message, code] of START_VALIDATION_MESSAGES) {
    const error = { name: "ValidationException", message, status: 400, retryable: false };
    assert.equal(serviceErrorCode(error, "StartAttachmentUpload"), code, message);
    // Only StartAttachmentUpload's, and only a ValidationException.
    assert.equal(serviceErrorCode(error, "GetTranscript"), "rejected_by_service", message);
    assert.equal(
      serviceErrorCode(
        { ...error, name: "AccessDeniedException", status: 403 },
        "StartAttachmentUpload",
      ),
      "access_denied",
    );
    const failure = serviceFailure("StartAttachmentUpload", error);
    assert.equal(failure.code, code);
    assert.equal(failure.stage, "start");
    assert.equal(failure.message, `StartAttachmentUpload failed: ValidationException: ${message}`);
    assert.equal(failure.retryable, false);
  }
});

Deno.test("one reader of S3's error answers, for uploads and downloads", async () => {
  const xml = (code: string, requestId?: string) =>
    `<?xml version="1.0"?><Error><Code>${code}</Code><Message>m</Message>${
      requestId ? `<RequestId>${requestId}</RequestId>` : ""
    }</Error>`;
  const refused = await s3Failure(
    new Response(xml("SignatureDoesNotMatch", "BODY-ID"), { status: 403 }),
    "upload",
    "a-1",
  );
  assert.equal(refused.code, "upload_refused");
  assert.equal(refused.stage, "upload");
  assert.equal(refused.attachmentId, "a-1");
  assert.equal(refused.message, "S3 refused the upload: HTTP 403 SignatureDoesNotMatch");
  assert.deepEqual(refused.upstream, {
    service: "s3",
    name: "SignatureDoesNotMatch",
    status: 403,
    requestId: "BODY-ID",
  });

  const failed = await s3Failure(
    new Response(xml("SlowDown"), { status: 503, headers: { "x-amz-request-id": "HEADER-ID" } }),
    "upload",
  );
  assert.equal(failed.code, "upload_failed");
  assert.equal(failed.upstream?.requestId, "HEADER-ID");
  assert.equal(failed.retryable, true);

  const bare = await s3Failure(new Response("nope", { status: 404 }), "download");
  assert.equal(bare.code, "download_failed");
  assert.equal(bare.message, "S3 refused the download: HTTP 404");
  assert.deepEqual(bare.upstream, { service: "s3", name: "HTTP 404", status: 404 });

  const moved = await s3Failure(
    new Response(null, { status: 307, headers: { location: "https://elsewhere/" } }),
    "download",
  );
  assert.equal(moved.message, "S3 answered the download with a redirect (HTTP 307), not followed");
});

Deno.test("retryable: failures upstream or in the worker, never the input", () => {
  const retryable = (code: AttachmentErrorCode) =>
    new AttachmentError(code, "validate", "m").retryable;
  for (
    const code of [
      "throttled",
      "too_many_requests",
      "service_unavailable",
      "upload_failed",
      "upload_timeout",
      "download_failed",
      "completion_failed",
      "network_error",
    ] as const
  ) assert.equal(retryable(code), true, code);
  for (
    const code of [
      "invalid_name",
      "empty",
      "too_large",
      "unsupported_type",
      "invalid_file",
      "access_denied",
      "quota_exceeded",
      "rejected_by_service",
      "attachment_not_found",
      "missing_token",
      "idempotency_key_reused",
      "usage",
    ] as const
  ) assert.equal(retryable(code), false, code);
});
