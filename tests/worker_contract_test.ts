/**
 * The checker that holds every exchange with a worker to worker/openapi.yaml
 * (`_worker_contract.ts`) sees each kind of break: it is only worth what it refuses.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import {
  servedWorkerSpec,
  workerContractProblems,
  type WorkerExchange,
} from "./_worker_contract.ts";

const problemBody = (status: number, code: string) =>
  JSON.stringify({
    type: `urn:connect-attachments:problem:${code}`,
    title: "t",
    status,
    detail: "d",
    code,
  });

const json = { "content-type": "application/json" };
const problemJson = { "content-type": "application/problem+json" };

const uploaded: WorkerExchange = {
  method: "PUT",
  url: "http://127.0.0.1:1/attachments/report.pdf",
  requestHeaders: new Headers({ "x-amz-bearer": "token" }),
  requestHasBody: true,
  status: 201,
  headers: new Headers({ ...json, location: "/attachments/id-1" }),
  body: JSON.stringify({
    attachmentId: "id-1",
    name: "report.pdf",
    contentType: "application/pdf",
    size: 10,
    completed: true,
  }),
};

const refused = (status: number, code: string, headers: Record<string, string> = {}) => ({
  ...uploaded,
  status,
  headers: new Headers({ ...problemJson, ...headers }),
  body: problemBody(status, code),
});

Deno.test("the worker contract checker passes what keeps the contract", () => {
  assert.deepEqual(workerContractProblems(uploaded), []);
  assert.deepEqual(workerContractProblems(refused(415, "unsupported_type")), []);
  assert.deepEqual(
    workerContractProblems(refused(401, "missing_token", { "www-authenticate": "Bearer" })),
    [],
  );
  assert.deepEqual(
    workerContractProblems({
      ...uploaded,
      method: "GET",
      url: "http://127.0.0.1:1/healthz",
      requestHasBody: false,
      status: 200,
      headers: new Headers(json),
      body: '{"status":"ok"}',
    }),
    [],
  );
  // A download comes back with the file's own type, unread.
  assert.deepEqual(
    workerContractProblems({
      ...uploaded,
      method: "GET",
      url: "http://127.0.0.1:1/attachments/id-1",
      requestHasBody: false,
      status: 200,
      headers: new Headers({ "content-type": "application/pdf", "content-length": "10" }),
      body: undefined,
    }),
    [],
  );
  // A CORS preflight is the CORS layer's, not an operation.
  assert.deepEqual(
    workerContractProblems({
      ...uploaded,
      method: "OPTIONS",
      requestHeaders: new Headers({ "access-control-request-method": "PUT" }),
      status: 204,
      headers: new Headers(),
      body: "",
    }),
    [],
  );
});

Deno.test("the worker contract checker refuses each kind of break", () => {
  const broken: [string, WorkerExchange][] = [
    ["an undeclared status", refused(418, "not_found")],
    ["a 5xx the operation does not declare", {
      ...refused(503, "service_unavailable"),
      method: "GET",
      url: "http://127.0.0.1:1/healthz",
    }],
    ["a body missing a required member", {
      ...uploaded,
      body: JSON.stringify({ attachmentId: "id-1", name: "report.pdf" }),
    }],
    ["a member of the wrong type", {
      ...uploaded,
      body: uploaded.body!.replace('"size":10', '"size":"10"'),
    }],
    ["an unknown problem code", refused(400, "no_such_code")],
    ["a problem whose status is not the answer's", {
      ...refused(400, "invalid_name"),
      body: problemBody(404, "invalid_name"),
    }],
    ["a JSON answer where a problem is declared", {
      ...refused(400, "invalid_name"),
      headers: new Headers(json),
    }],
    ["a 201 without Location", { ...uploaded, headers: new Headers(json) }],
    ["a 401 without WWW-Authenticate", refused(401, "missing_token")],
    ["a 429 without Retry-After", refused(429, "throttled")],
    ["a Retry-After that is not seconds", refused(429, "throttled", { "retry-after": "soon" })],
    ["a name with a slash, uploaded", {
      ...uploaded,
      url: "http://127.0.0.1:1/attachments/a%2Fb.pdf",
    }],
    ["a 257-character name, uploaded", {
      ...uploaded,
      url: `http://127.0.0.1:1/attachments/${"n".repeat(253)}.pdf`,
    }],
    ["an Idempotency-Key with a space, uploaded", {
      ...uploaded,
      requestHeaders: new Headers({ "x-amz-bearer": "t", "idempotency-key": "a b" }),
    }],
    ["complete=maybe, uploaded", {
      ...uploaded,
      url: "http://127.0.0.1:1/attachments/report.pdf?complete=maybe",
    }],
    ["no body, uploaded", { ...uploaded, requestHasBody: false }],
    ["an undeclared path answered 200", {
      ...uploaded,
      method: "GET",
      url: "http://127.0.0.1:1/admin",
      status: 200,
    }],
    ["an undeclared method answered 201", { ...uploaded, method: "POST" }],
  ];
  for (const [what, exchange] of broken) {
    assert.ok(workerContractProblems(exchange).length > 0, `${what} went unseen`);
  }
});

Deno.test("the document the worker must serve is worker/openapi.yaml from disk, less its prose", async () => {
  const yaml = parse(
    await Deno.readTextFile(new URL("../worker/openapi.yaml", import.meta.url)),
  );
  const served = servedWorkerSpec() as typeof yaml;
  // Every description goes, the document's own too (its prose stays in the YAML); the rest stays.
  assert.equal(served.info.description, undefined);
  assert.equal(JSON.stringify(served).includes('"description"'), false);
  assert.equal(served.info.summary, yaml.info.summary);
  assert.deepEqual(
    Object.keys(served.paths["/attachments/{attachment}"].put.responses),
    Object.keys(yaml.paths["/attachments/{attachment}"].put.responses),
  );
  assert.equal(served.components.schemas.Problem.description, undefined);
  assert.deepEqual(
    served.components.schemas.ProblemCode.enum,
    yaml.components.schemas.ProblemCode.enum,
  );
});
