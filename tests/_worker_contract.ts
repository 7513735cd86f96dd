/**
 * The upload worker's own contract, `worker/openapi.yaml` (read from disk), checked on every
 * exchange the suite has with a worker: {@link workerFetch} and {@link workerRawHttp} stand in
 * for `fetch` and `rawHttp` and fail (reject) on an exchange that breaks it.
 *
 * What is checked:
 * - the answer: its status is declared for the operation (exactly, or as `4XX`/`5XX`), its
 *   `Content-Type` is one the status declares, its JSON body validates against the declared
 *   schema (a problem's `status` is the answer's), its declared headers are present where
 *   required and validate;
 * - the request: path, header and query parameters and the body's presence against the
 *   operation. A request the spec refuses must be answered with a 4xx.
 * - a request to a path or method the spec does not declare gets a 4xx problem.
 *
 * Not checked: CORS preflights (`OPTIONS` with `Access-Control-Request-Method`, answered by the
 * CORS layer, not an operation), and answers the runtime's own HTTP parser gives before any
 * worker code runs (use `rawHttp` itself for those).
 *
 * @module
 */

import { Ajv2020 } from "ajv/dist/2020.js";
import { parse } from "yaml";
import { rawHttp, type RawHttpRequest, type RawResponse } from "../testing/raw_http.ts";

const SPEC_ID = "https://connect-attachments.invalid/worker/openapi.yaml";

interface Parameter {
  name: string;
  in: "path" | "query" | "header";
  required?: boolean;
  schema: unknown;
}
interface DeclaredResponse {
  $ref?: string;
  headers?: Record<string, { required?: boolean; schema: unknown }>;
  content?: Record<string, { schema: unknown }>;
}
interface Operation {
  operationId: string;
  parameters?: (Parameter | { $ref: string })[];
  requestBody?: { required?: boolean };
  responses: Record<string, DeclaredResponse>;
}
type PathItem = Record<string, Operation> & { parameters?: Parameter[] };
interface WorkerSpec {
  paths: Record<string, PathItem>;
  components: {
    parameters: Record<string, Parameter>;
    responses: Record<string, DeclaredResponse>;
  };
}

/** worker/openapi.yaml as it is on disk. */
export const WORKER_SPEC_PATH: URL = new URL("../worker/openapi.yaml", import.meta.url);

/**
 * What `GET /openapi.json` must serve: worker/openapi.yaml, read from disk, with every
 * `description` left out (the document's own too), as docs/worker-api.md says it is served.
 *
 * @returns The expected document.
 */
export function servedWorkerSpec(): unknown {
  const document = parse(Deno.readTextFileSync(WORKER_SPEC_PATH)) as Record<string, unknown>;
  const strip = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(strip);
    if (typeof value !== "object" || value === null) return value;
    return Object.fromEntries(
      Object.entries(value).filter(([key]) => key !== "description").map((
        [key, item],
      ) => [key, strip(item)]),
    );
  };
  return strip(document);
}

const spec = parse(Deno.readTextFileSync(WORKER_SPEC_PATH)) as WorkerSpec;
const ajv = new Ajv2020({ allErrors: true, strict: true });
ajv.addKeyword("components");
ajv.addSchema({ $id: SPEC_ID, components: spec.components });

/** A schema of the spec, its `#/components/...` references made absolute. */
function compile(schema: unknown) {
  const absolute = JSON.parse(
    JSON.stringify(schema).replaceAll('"$ref":"#/', `"$ref":"${SPEC_ID}#/`),
  );
  return ajv.compile(absolute);
}

function resolve<T>(value: T | { $ref: string }, section: "parameters" | "responses"): T {
  const ref = (value as { $ref?: string }).$ref;
  if (!ref) return value as T;
  return spec.components[section][ref.split("/").pop()!] as T;
}

const TEMPLATES = Object.keys(spec.paths).map((template) => ({
  template,
  pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, "([^/]*)")}$`),
  names: [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]),
}));

/** One exchange with the worker, as a checker sees it. */
export interface WorkerExchange {
  method: string;
  /** The request URL as sent (path percent-encoded). */
  url: string;
  requestHeaders: Headers;
  /** Whether the request carried a body of at least one byte (unknown streams count). */
  requestHasBody: boolean;
  status: number;
  headers: Headers;
  /** The answer body as text, where it was read (JSON answers always are). */
  body?: string;
}

/**
 * What is wrong with one exchange, measured against worker/openapi.yaml.
 *
 * @param exchange The request and its answer.
 * @returns Every problem, one line each; empty when the exchange keeps the contract.
 */
export function workerContractProblems(exchange: WorkerExchange): string[] {
  const method = exchange.method.toLowerCase();
  if (method === "options" && exchange.requestHeaders.has("access-control-request-method")) {
    return [];
  }
  const url = new URL(exchange.url);
  const match = TEMPLATES.map((t) => ({ ...t, found: t.pattern.exec(url.pathname) }))
    .find((t) => t.found);
  const operation = match ? spec.paths[match.template][method] : undefined;
  if (!match || !operation || method === "parameters") {
    // Not an operation of the API: a 4xx problem, whatever it is.
    const problems = exchange.status >= 400 && exchange.status < 500
      ? []
      : [`${exchange.method} ${url.pathname} is not in the spec, yet answered ${exchange.status}`];
    return [...problems, ...bodyProblems(exchange, { "application/problem+json": PROBLEM })];
  }

  const requestProblems: string[] = [];
  const parameters = [
    ...(spec.paths[match.template].parameters ?? []),
    ...(operation.parameters ?? []),
  ]
    .map((p) => resolve<Parameter>(p, "parameters"));
  for (const parameter of parameters) {
    let value: string | null;
    if (parameter.in === "path") {
      const raw = match.found![1 + match.names.indexOf(parameter.name)];
      try {
        value = decodeURIComponent(raw);
      } catch {
        requestProblems.push(`path ${parameter.name} is not percent-encoded UTF-8`);
        continue;
      }
    } else if (parameter.in === "query") {
      value = url.searchParams.get(parameter.name);
    } else {
      value = exchange.requestHeaders.get(parameter.name);
    }
    if (value === null) {
      if (parameter.required) requestProblems.push(`no ${parameter.in} ${parameter.name}`);
      continue;
    }
    const validate = compile(parameter.schema);
    if (!validate(value)) {
      requestProblems.push(`${parameter.in} ${parameter.name} ${validate.errors![0].message}`);
    }
  }
  if (operation.requestBody?.required && !exchange.requestHasBody) {
    requestProblems.push("no request body");
  }

  const problems: string[] = [];
  if (requestProblems.length > 0 && !(exchange.status >= 400 && exchange.status < 500)) {
    problems.push(
      `the request breaks the spec (${requestProblems.join("; ")}) yet was answered ` +
        exchange.status,
    );
  }
  const status = String(exchange.status);
  const declaredAs = operation.responses[status] ?? operation.responses[`${status[0]}XX`] ??
    operation.responses.default;
  if (!declaredAs) {
    return [...problems, `${operation.operationId}: status ${status} is not declared`];
  }
  const declared = resolve<DeclaredResponse>(declaredAs, "responses");
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    const value = exchange.headers.get(name);
    if (value === null) {
      if (header.required) problems.push(`no ${name} header`);
      continue;
    }
    const validate = compile(header.schema);
    const typed = /^-?\d+$/.test(value) ? Number(value) : value;
    if (!validate(typed) && !validate(value)) {
      problems.push(`header ${name}: ${JSON.stringify(value)} ${validate.errors![0].message}`);
    }
  }
  const media = Object.fromEntries(
    Object.entries(declared.content ?? {}).map(([type, { schema }]) => [type, schema]),
  );
  return [
    ...problems,
    ...bodyProblems(exchange, media).map((p) => `${operation.operationId} ${status}: ${p}`),
  ];
}

const PROBLEM = { $ref: "#/components/schemas/Problem" };

/** Checks the answer's type and body against the media types a status declares. */
function bodyProblems(exchange: WorkerExchange, media: Record<string, unknown>): string[] {
  const type = (exchange.headers.get("content-type") ?? "").split(";")[0].trim().toLowerCase();
  const types = Object.keys(media);
  if (types.length === 0) {
    return exchange.body ? [`a body (${type}) where none is declared`] : [];
  }
  const declared = types.find((t) => t === type) ?? types.find((t) => t === "*/*");
  if (!declared) return [`Content-Type ${type || "none"}, declared: ${types.join(", ")}`];
  if (!/^application\/(.+\+)?json$/.test(type)) return [];
  if (exchange.body === undefined) return ["a JSON body that was not read"];
  let body: unknown;
  try {
    body = JSON.parse(exchange.body);
  } catch {
    return [`the body is not JSON: ${exchange.body.slice(0, 200)}`];
  }
  const problems: string[] = [];
  const validate = compile(media[declared]);
  if (!validate(body)) {
    problems.push(...validate.errors!.map((e) => `body${e.instancePath} ${e.message}`));
  }
  if (type === "application/problem+json") {
    const status = (body as { status?: unknown }).status;
    if (status !== exchange.status) {
      problems.push(`problem status ${status} on a ${exchange.status}`);
    }
  }
  return problems;
}

/** Thrown by {@link workerFetch} and {@link workerRawHttp} for an exchange that breaks the spec. */
export class WorkerContractError extends Error {
  /** @param exchange The exchange. @param problems What is wrong with it. */
  constructor(exchange: WorkerExchange, readonly problems: string[]) {
    super(
      `${exchange.method} ${new URL(exchange.url).pathname} → ${exchange.status} breaks ` +
        `worker/openapi.yaml:\n  ${problems.join("\n  ")}`,
    );
    this.name = "WorkerContractError";
  }
}

function hasBytes(body: BodyInit | null | undefined): boolean {
  if (body === undefined || body === null) return false;
  if (typeof body === "string") return body.length > 0;
  if (body instanceof Blob) return body.size > 0;
  if (body instanceof ArrayBuffer || ArrayBuffer.isView(body)) return body.byteLength > 0;
  return true;
}

/**
 * `fetch` for talking to a worker: the same call, checked against worker/openapi.yaml. JSON
 * answers (and every error answer) are read whole to be checked and handed on as they came;
 * other bodies (downloads) are left to stream, unread.
 *
 * @param input The URL (or a `Request` without a body).
 * @param init As for `fetch`.
 * @returns The answer.
 * @throws {WorkerContractError} When the exchange breaks the spec.
 *
 * @example
 * ```ts ignore
 * const health = await workerFetch(`${worker.url}/healthz`);
 * ```
 */
export async function workerFetch(
  input: string | URL | Request,
  init: RequestInit = {},
): Promise<Response> {
  const request = input instanceof Request ? input : undefined;
  const response = await fetch(input, init);
  const type = response.headers.get("content-type") ?? "";
  let body: string | undefined;
  let answer = response;
  if (/json/i.test(type) || response.status >= 400) {
    body = await response.text();
    answer = new Response([101, 204, 205, 304].includes(response.status) ? null : body, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  }
  const exchange: WorkerExchange = {
    method: init.method ?? request?.method ?? "GET",
    url: String(request?.url ?? input),
    requestHeaders: new Headers(init.headers ?? request?.headers),
    requestHasBody: hasBytes(init.body),
    status: response.status,
    headers: response.headers,
    body,
  };
  const problems = workerContractProblems(exchange);
  if (problems.length > 0) throw new WorkerContractError(exchange, problems);
  return answer;
}

/**
 * {@link rawHttp} for talking to a worker: the same request, its answer (where one came)
 * checked against worker/openapi.yaml.
 *
 * @param request What to send.
 * @returns The answer, or `undefined` when the request was cut.
 * @throws {WorkerContractError} When the exchange breaks the spec.
 *
 * @example
 * ```ts ignore
 * const answer = await workerRawHttp({ url: `${worker.url}/attachments/a.pdf`, headers, body });
 * ```
 */
export async function workerRawHttp(
  request: RawHttpRequest,
): Promise<RawResponse | undefined> {
  const answer = await rawHttp(request);
  if (!answer) return answer;
  const headers = new Headers();
  for (const [name, value] of Object.entries(request.headers ?? {})) headers.append(name, value);
  const exchange: WorkerExchange = {
    method: request.method ?? "PUT",
    url: request.url,
    requestHeaders: headers,
    requestHasBody: Number(headers.get("content-length") ?? 0) > 0,
    status: answer.status,
    headers: answer.headers,
    body: /json/i.test(answer.headers.get("content-type") ?? "") ? answer.text : undefined,
  };
  const problems = workerContractProblems(exchange);
  if (problems.length > 0) throw new WorkerContractError(exchange, problems);
  return answer;
}
