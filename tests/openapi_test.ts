import assert from "node:assert/strict";
import { assertLintsClean, REPO_ROOT, runDeno } from "./_run.ts";

Deno.test("openapi.yaml lints clean with Redocly CLI: no error, no warning", async () => {
  await assertLintsClean("openapi.yaml");
});

Deno.test("the Redocly configuration itself is valid", async () => {
  const run = await runDeno(["run", "-A", "npm:@redocly/cli@2.77.0", "check-config"], {
    cwd: REPO_ROOT,
  });
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
});

Deno.test("generated/participant.ts is what `deno task gen` makes from openapi.yaml", async () => {
  const run = await runDeno([
    "run",
    "-A",
    "npm:openapi-typescript@7.13.0",
    "openapi.yaml",
    "-o",
    "generated/participant.ts",
    "--check",
  ], { cwd: REPO_ROOT });
  assert.equal(run.code, 0, `generated/ is stale; run \`deno task gen\`\n${run.stderr}`);
});

/**
 * The official model of the seven operations, facts only: `fixtures/connectparticipant_model.json`
 * holds botocore's copy of the service model (API version 2018-09-07) without its prose: every
 * shape the operations reach, with its type, members, required members, lengths, ranges,
 * patterns and enums, and each operation's errors. The npm package of the official JavaScript
 * SDK (`@aws-sdk/client-connectparticipant`, pinned in deno.json) carries members, required
 * members, types, enums and HTTP bindings but no lengths, ranges, patterns or per-operation
 * errors; the first step below holds the fixture to it, so that both are the same model.
 */
interface ModelMember {
  shape: string;
  location?: string;
  locationName?: string;
  idempotencyToken?: boolean;
}
interface ModelShape {
  type: string;
  required?: string[];
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  httpStatus?: number;
  members?: Record<string, ModelMember>;
  member?: string;
  key?: string;
  value?: string;
}
interface Model {
  operations: Record<
    string,
    { method: string; uri: string; input: string; output: string; errors: string[] }
  >;
  shapes: Record<string, ModelShape>;
}

type JsonSchema = Record<string, unknown> & {
  $ref?: string;
  allOf?: JsonSchema[];
  type?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  propertyNames?: JsonSchema;
  additionalProperties?: boolean | JsonSchema;
  enum?: string[];
};

const MODEL: Model = JSON.parse(
  await Deno.readTextFile(new URL("./fixtures/connectparticipant_model.json", import.meta.url)),
);

/** The JSON Schema type each model type must have in the spec. */
const JSON_TYPE: Record<string, string> = {
  string: "string",
  integer: "integer",
  long: "integer",
  boolean: "boolean",
  structure: "object",
  list: "array",
  map: "object",
};

/** The schema keywords that carry each model type's facts; any other constraint is an invention. */
const FACT_KEYWORDS: Record<string, string[]> = {
  string: ["type", "minLength", "maxLength", "pattern", "enum"],
  integer: ["type", "minimum", "maximum", "format"],
  long: ["type", "minimum", "maximum", "format"],
  boolean: ["type"],
  structure: ["type", "properties", "required", "additionalProperties"],
  list: ["type", "items", "minItems", "maxItems"],
  map: ["type", "propertyNames", "additionalProperties", "minProperties", "maxProperties"],
};
/** Keywords that constrain nothing (prose, examples) and may appear anywhere. */
const PROSE_KEYWORDS = new Set(["description", "title", "examples", "example", "default"]);

/**
 * Compares openapi.yaml with the official model: every operation's binding, header, request
 * and answer, recursively (member names, required members, types, lengths, ranges, patterns,
 * enums, closed objects) and the errors each operation may raise.
 *
 * @param spec The parsed openapi.yaml.
 * @returns Every difference, one line each; empty when the two agree.
 */
function specVersusModel(spec: {
  paths: Record<string, Record<string, Record<string, unknown>>>;
  components: Record<string, Record<string, unknown>>;
}): string[] {
  const problems: string[] = [];
  const lookup = (ref: string): JsonSchema => {
    const [, , section, name] = ref.split("/");
    const found = spec.components[section]?.[name] as JsonSchema | undefined;
    if (!found) throw new Error(`${ref} is not in openapi.yaml`);
    return found;
  };
  /** The schema with its `$ref` and `allOf` parts merged in (its own keywords win). */
  const resolve = (schema: JsonSchema): JsonSchema => {
    let out: JsonSchema = { ...schema };
    if (out.$ref) {
      const { $ref, ...rest } = out;
      out = { ...resolve(lookup($ref)), ...rest };
    }
    if (out.allOf) {
      const { allOf, ...rest } = out;
      out = Object.assign({}, ...allOf.map(resolve), rest);
    }
    return out;
  };

  const compare = (
    shapeName: string,
    given: JsonSchema | undefined,
    where: string,
    closed = true,
  ) => {
    const shape = MODEL.shapes[shapeName];
    if (!given) {
      problems.push(`${where}: missing in the spec (model shape ${shapeName})`);
      return;
    }
    const schema = resolve(given);
    const differ = (label: string, inSpec: unknown, inModel: unknown) => {
      if (inSpec !== inModel) {
        problems.push(
          `${where}: ${label} ${JSON.stringify(inSpec) ?? "none"} in the spec, ` +
            `${JSON.stringify(inModel) ?? "none"} in the model (${shapeName})`,
        );
      }
    };
    differ("type", schema.type, JSON_TYPE[shape.type]);
    for (const keyword of Object.keys(schema)) {
      if (!PROSE_KEYWORDS.has(keyword) && !FACT_KEYWORDS[shape.type].includes(keyword)) {
        problems.push(`${where}: ${keyword} has no counterpart in the model (${shape.type})`);
      }
    }
    const sorted = (values?: unknown[]) => values ? JSON.stringify([...values].sort()) : undefined;
    const positive = (n: unknown) => (n === 0 ? undefined : n);
    switch (shape.type) {
      case "string":
        differ("minLength", positive(schema.minLength), positive(shape.min));
        differ("maxLength", schema.maxLength, shape.max);
        differ("pattern", schema.pattern, shape.pattern);
        differ("enum", sorted(schema.enum), sorted(shape.enum));
        break;
      case "integer":
      case "long":
        differ("minimum", schema.minimum, shape.min);
        differ("maximum", schema.maximum, shape.max);
        differ(
          "format",
          schema.format === "int32" && shape.type === "integer" ? undefined : schema.format,
          shape.type === "long" ? "int64" : undefined,
        );
        break;
      case "list":
        differ("minItems", positive(schema.minItems), positive(shape.min));
        differ("maxItems", schema.maxItems, shape.max);
        compare(shape.member!, schema.items, `${where}[]`, closed);
        break;
      case "map":
        differ("minProperties", positive(schema.minProperties), positive(shape.min));
        differ("maxProperties", schema.maxProperties, shape.max);
        compare(shape.key!, { type: "string", ...schema.propertyNames }, `${where} keys`, closed);
        compare(
          shape.value!,
          typeof schema.additionalProperties === "object" ? schema.additionalProperties : undefined,
          `${where} values`,
          closed,
        );
        break;
      case "structure": {
        const onWire = Object.entries(shape.members ?? {}).filter(([, m]) => !m.location);
        const names = onWire.map(([name]) => name);
        differ("members", sorted(Object.keys(schema.properties ?? {})), sorted(names));
        const required = (shape.required ?? []).filter((name) => names.includes(name));
        differ("required", sorted(schema.required ?? []), sorted(required));
        if (closed) differ("additionalProperties", schema.additionalProperties, false);
        for (const [name, member] of onWire) {
          const property = schema.properties?.[name];
          if (property) compare(member.shape, property, `${where}.${name}`, closed);
        }
        break;
      }
    }
  };

  for (const [operationId, operation] of Object.entries(MODEL.operations)) {
    const entry = spec.paths[operation.uri]?.[operation.method.toLowerCase()] as {
      operationId?: string;
      parameters?: JsonSchema[];
      requestBody?: { required?: boolean; content: Record<string, { schema: JsonSchema }> };
      responses: Record<string, JsonSchema & { content?: Record<string, { schema: JsonSchema }> }>;
    } | undefined;
    if (entry?.operationId !== operationId) {
      problems.push(`${operationId}: not at ${operation.method} ${operation.uri}`);
      continue;
    }
    const input = MODEL.shapes[operation.input];
    // Header members are the operation's header parameters, and nothing else is.
    const parameters = (entry.parameters ?? []).map(resolve) as (JsonSchema & {
      name: string;
      in: string;
      required?: boolean;
      schema: JsonSchema;
    })[];
    const headers = Object.entries(input.members ?? {}).filter(([, m]) => m.location === "header");
    differ(
      `${operationId} parameters`,
      JSON.stringify(parameters.map((p) => `${p.in} ${p.name}`).sort()),
      JSON.stringify(headers.map(([, m]) => `header ${m.locationName}`).sort()),
    );
    for (const [name, member] of headers) {
      const parameter = parameters.find((p) => p.in === "header" && p.name === member.locationName);
      if (!parameter) continue;
      differ(
        `${operationId} ${member.locationName} required`,
        parameter.required ?? false,
        input.required?.includes(name) ?? false,
      );
      compare(member.shape, parameter.schema, `${operationId} ${member.locationName}`);
    }
    differ(`${operationId} requestBody.required`, entry.requestBody?.required, true);
    compare(
      operation.input,
      entry.requestBody?.content["application/json"]?.schema,
      `${operationId} input`,
    );
    compare(
      operation.output,
      entry.responses["200"]?.content?.["application/json"]?.schema,
      `${operationId} output`,
    );
    // The errors it may raise: one response each, at the error's status, and no other.
    const declared = Object.entries(entry.responses).filter(([status]) => status !== "200");
    const expected = operation.errors.map((name) => `${MODEL.shapes[name].httpStatus} ${name}`);
    const got = declared.map(([status, response]) =>
      `${status} ${response.$ref?.split("/").pop() ?? "(inline)"}`
    );
    differ(`${operationId} errors`, JSON.stringify(got.sort()), JSON.stringify(expected.sort()));
  }
  // Each error's body, by the schema of the same name (error bodies are not closed).
  const errors = new Set(Object.values(MODEL.operations).flatMap((o) => o.errors));
  for (const name of errors) {
    compare(name, spec.components.schemas[name] as JsonSchema, `${name} body`, false);
  }
  return problems;

  function differ(label: string, inSpec: unknown, inModel: unknown) {
    if (inSpec !== inModel) {
      problems.push(`${label}: ${inSpec ?? "none"} in the spec, ${inModel ?? "none"} in the model`);
    }
  }
}

/** The kind of an npm SDK schema (`@smithy/core/schema` form), as a fixture type family. */
function sdkKind(schema: unknown): string {
  const value = typeof schema === "function" ? schema() : schema;
  if (typeof value === "number") {
    return ({ 0: "string", 1: "number", 2: "boolean", 64: "list", 128: "map" } as Record<
      number,
      string
    >)[value] ?? `code ${value}`;
  }
  if (!Array.isArray(value)) return "unknown";
  // A named schema: [kind, namespace, name, traits, ...].
  if (typeof value[0] === "number" && typeof value[1] === "string") {
    if (value[0] === 0) return sdkKind(value[4]);
    return ({ 3: "structure", [-3]: "structure", 1: "list", 2: "map" } as Record<number, string>)[
      value[0]
    ] ?? `kind ${value[0]}`;
  }
  // A member: [schema, traits].
  return sdkKind(value[0]);
}

/** The fixture's type as the SDK's kinds name it. */
function modelKind(shape: ModelShape): string {
  return shape.type === "integer" || shape.type === "long" ? "number" : shape.type;
}

Deno.test("openapi.yaml matches the official model of the seven operations", async (t) => {
  const sdk = await import("@aws-sdk/client-connectparticipant") as Record<string, unknown>;
  const { parse } = await import("yaml");
  const spec = parse(await Deno.readTextFile(new URL("../openapi.yaml", import.meta.url)));

  await t.step("the model fixture is the npm SDK's model: members, required, types, HTTP", () => {
    const problems: string[] = [];
    for (const [name, operation] of Object.entries(MODEL.operations)) {
      const compiled = sdk[`${name}$`] as unknown[];
      const [method, uri, code] = (compiled[3] as { http: [string, string, number] }).http;
      if (`${method} ${uri} ${code}` !== `${operation.method} ${operation.uri} 200`) {
        problems.push(`${name}: ${method} ${uri} ${code} in the SDK`);
      }
    }
    for (const [name, shape] of Object.entries(MODEL.shapes)) {
      if (shape.type !== "structure") continue;
      const compiled = sdk[`${name}$`] as unknown[] | undefined;
      if (!compiled) {
        problems.push(`${name}: not in the SDK`);
        continue;
      }
      const names = compiled[4] as string[];
      const schemas = compiled[5] as unknown[];
      const required = new Set(names.slice(0, (compiled[6] as number | undefined) ?? 0));
      const members = shape.members ?? {};
      if (JSON.stringify([...names].sort()) !== JSON.stringify(Object.keys(members).sort())) {
        problems.push(`${name}: members ${names} in the SDK, ${Object.keys(members)} here`);
        continue;
      }
      names.forEach((member, i) => {
        const target = MODEL.shapes[members[member].shape];
        if (sdkKind(schemas[i]) !== modelKind(target)) {
          problems.push(
            `${name}.${member}: ${sdkKind(schemas[i])} in the SDK, ${target.type} here`,
          );
        }
        // The SDK fills idempotency tokens in itself, so it does not count them as required.
        const here = shape.required?.includes(member) ?? false;
        if (required.has(member) !== here && !members[member].idempotencyToken) {
          problems.push(`${name}.${member}: required ${required.has(member)} in the SDK`);
        }
      });
      if (shape.httpStatus !== undefined) {
        const status = (compiled[3] as { httpError?: number }).httpError;
        if (status !== shape.httpStatus) problems.push(`${name}: HTTP ${status} in the SDK`);
      }
    }
    for (const [name, shape] of Object.entries(MODEL.shapes)) {
      if (!shape.enum || !sdk[name]) continue;
      const values = Object.values(sdk[name] as Record<string, string>).sort();
      if (JSON.stringify(values) !== JSON.stringify([...shape.enum].sort())) {
        problems.push(`${name}: enum ${values} in the SDK, ${shape.enum} here`);
      }
    }
    assert.deepEqual(problems, []);
  });

  await t.step(
    "operations, headers, requests, answers and errors: types, lengths, ranges, patterns, enums",
    () => assert.deepEqual(specVersusModel(spec), []),
  );

  await t.step("error shapes say their status codes", () => {
    for (const name of new Set(Object.values(MODEL.operations).flatMap((o) => o.errors))) {
      const description = spec.components.schemas[name].description as string;
      assert.equal(description, `Sent with status ${MODEL.shapes[name].httpStatus}.`, name);
    }
  });

  await t.step("the comparison sees each kind of divergence", () => {
    const changed = (path: string[], value: unknown) => {
      const copy = structuredClone(spec);
      let at = copy;
      for (const key of path.slice(0, -1)) at = at[key];
      if (value === undefined) delete at[path.at(-1)!];
      else at[path.at(-1)!] = value;
      return specVersusModel(copy);
    };
    const maxResults = [
      "components",
      "schemas",
      "GetTranscriptRequest",
      "properties",
      "MaxResults",
    ];
    const cases: [string, string[], unknown][] = [
      ["a range", [...maxResults, "maximum"], 1000],
      ["a type", [...maxResults, "type"], "string"],
      ["a dropped range", [...maxResults, "minimum"], undefined],
      ["a length", ["components", "schemas", "AttachmentName", "maxLength"], 255],
      ["a list length", [
        "components",
        "schemas",
        "CompleteAttachmentUploadRequest",
        "properties",
        "AttachmentIds",
        "maxItems",
      ], 2],
      ["a map key length", [
        "components",
        "schemas",
        "UploadMetadata",
        "properties",
        "HeadersToInclude",
        "propertyNames",
        "maxLength",
      ], 64],
      ["a pattern", ["components", "schemas", "ArtifactId", "pattern"], "^[a-z]+$"],
      ["an enum", ["components", "schemas", "ScanDirection", "enum"], ["FORWARD"]],
      ["an invented constraint", ["components", "schemas", "ContactId", "format"], "uuid"],
      ["a header", ["components", "parameters", "ConnectionTokenHeader", "required"], false],
      ["an error", [
        "paths",
        "/participant/attachment",
        "post",
        "responses",
        "402",
      ], { $ref: "#/components/responses/ServiceQuotaExceededException" }],
      ["a missing error", [
        "paths",
        "/participant/complete-attachment-upload",
        "post",
        "responses",
        "409",
      ], undefined],
      ["an error body", [
        "components",
        "schemas",
        "ReasonErrorBody",
        "properties",
        "Message",
        "maxLength",
      ], 20],
      ["an open object", ["components", "schemas", "UploadMetadata", "additionalProperties"], true],
      ["a required member", ["components", "schemas", "GetAttachmentResponse", "required"], []],
    ];
    for (const [what, path, value] of cases) {
      assert.ok(changed(path, value).length > 0, `${what} (${path.join(".")}) went unseen`);
    }
  });
});
