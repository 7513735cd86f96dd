import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** Runs `deno <args>` in the checkout and returns its exit code and output. */
async function deno(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const { code, stdout, stderr } = await new Deno.Command(Deno.execPath(), {
    args,
    cwd: root,
    env: { NO_COLOR: "1", REDOCLY_TELEMETRY: "off", REDOCLY_SUPPRESS_UPDATE_NOTICE: "true" },
    stdout: "piped",
    stderr: "piped",
  }).output();
  const text = new TextDecoder();
  return { code, stdout: text.decode(stdout), stderr: text.decode(stderr) };
}

Deno.test("openapi.yaml lints clean with Redocly CLI: no error, no warning", async () => {
  const run = await deno([
    "run",
    "-A",
    "npm:@redocly/cli@2.77.0",
    "lint",
    "--config",
    "redocly.yaml",
    "--format",
    "json",
    "openapi.yaml",
  ]);
  const start = run.stdout.indexOf("{");
  assert.ok(start >= 0, `no JSON report from Redocly CLI:\n${run.stdout}\n${run.stderr}`);
  const report = JSON.parse(run.stdout.slice(start)) as {
    totals: { errors: number; warnings: number; ignored: number };
    problems: { ruleId: string; message: string; location: { pointer?: string }[] }[];
  };
  const problems = report.problems.map((p) =>
    `${p.ruleId}: ${p.message} at ${p.location[0]?.pointer ?? "?"}`
  );
  assert.deepEqual(problems, []);
  assert.deepEqual(report.totals, { errors: 0, warnings: 0, ignored: 0 });
  assert.equal(run.code, 0, run.stderr);
});

Deno.test("the Redocly configuration itself is valid", async () => {
  const run = await deno(["run", "-A", "npm:@redocly/cli@2.77.0", "check-config"]);
  assert.equal(run.code, 0, `${run.stdout}\n${run.stderr}`);
});

Deno.test("generated/participant.ts is what `deno task gen` makes from openapi.yaml", async () => {
  const run = await deno([
    "run",
    "-A",
    "npm:openapi-typescript@7.13.0",
    "openapi.yaml",
    "-o",
    "generated/participant.ts",
    "--check",
  ]);
  assert.equal(run.code, 0, `generated/ is stale; run \`deno task gen\`\n${run.stderr}`);
});

/**
 * The official SDK's compiled model (`@aws-sdk/client-connectparticipant`, test only): each
 * structure is `[3, namespace, name, traits, memberNames, memberSchemas, requiredCount?]`,
 * each operation `[9, namespace, name, { http: [method, uri, code] }, input, output]`.
 */
const OPERATIONS = [
  "CreateParticipantConnection",
  "StartAttachmentUpload",
  "CompleteAttachmentUpload",
  "GetAttachment",
  "GetTranscript",
  "SendMessage",
  "DisconnectParticipant",
];

type JsonSchema = {
  $ref?: string;
  allOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  enum?: string[];
  type?: string;
  additionalProperties?: boolean | JsonSchema;
};

Deno.test("openapi.yaml matches the official SDK's model of the seven operations", async (t) => {
  const sdk = await import("@aws-sdk/client-connectparticipant") as Record<string, unknown>;
  const { parse } = await import("yaml");
  const spec = parse(await Deno.readTextFile(new URL("../openapi.yaml", import.meta.url)));
  const resolve = (schema: JsonSchema): JsonSchema => {
    if (schema.$ref) {
      const name = schema.$ref.split("/").pop()!;
      return resolve({ ...spec.components.schemas[name], ...schema, $ref: undefined });
    }
    return schema;
  };
  const unwrap = (s: unknown): unknown => (typeof s === "function" ? s() : s);
  const structure = (s: unknown): unknown[] | undefined => {
    let value = unwrap(s);
    if (Array.isArray(value) && typeof value[0] !== "number") value = unwrap(value[0]);
    return Array.isArray(value) && value[0] === 3 ? value : undefined;
  };
  const listMember = (s: unknown): unknown => {
    let value = unwrap(s);
    if (Array.isArray(value) && typeof value[0] !== "number") value = unwrap(value[0]);
    return Array.isArray(value) && value[0] === 1 ? value[4] : undefined;
  };

  /** Compares a model structure with a spec schema, members and required ones, recursively. */
  const compare = (model: unknown[], schema: JsonSchema, where: string, problems: string[]) => {
    const resolved = resolve(schema);
    const names = model[4] as string[];
    const members = model[5] as unknown[];
    const required = new Set(names.slice(0, (model[6] as number | undefined) ?? 0));
    const onWire = names
      .map((name, i) => ({ name, schema: members[i] }))
      .filter(({ schema }) =>
        !(Array.isArray(schema) && typeof schema[1] === "object" && schema[1] !== null &&
          "httpHeader" in schema[1])
      );
    const specNames = Object.keys(resolved.properties ?? {}).sort();
    const modelNames = onWire.map((m) => m.name).sort();
    if (JSON.stringify(specNames) !== JSON.stringify(modelNames)) {
      problems.push(`${where}: members ${specNames} in the spec, ${modelNames} in the model`);
    }
    if (resolved.additionalProperties !== false) {
      problems.push(`${where}: not closed`);
    }
    for (const { name, schema: member } of onWire) {
      const idempotency = Array.isArray(member) && member[1] === 4;
      const specRequired = resolved.required?.includes(name) ?? false;
      if (required.has(name) !== specRequired && !idempotency) {
        problems.push(`${where}.${name}: required ${specRequired} in the spec`);
      }
      const property = resolved.properties?.[name];
      if (!property) continue;
      const nested = structure(member);
      if (nested) compare(nested, property, `${where}.${name}`, problems);
      const item = listMember(member);
      const itemStructure = item === undefined ? undefined : structure(item);
      if (itemStructure) {
        compare(itemStructure, resolve(property).items!, `${where}.${name}[]`, problems);
      }
    }
  };

  for (const operationId of OPERATIONS) {
    await t.step(operationId, () => {
      const operation = sdk[`${operationId}$`] as unknown[];
      const [method, uri, code] = (operation[3] as { http: [string, string, number] }).http;
      const entry = spec.paths[uri]?.[method.toLowerCase()];
      assert.equal(entry?.operationId, operationId, `${method} ${uri}`);
      const problems: string[] = [];
      const request = entry.requestBody.content["application/json"].schema;
      compare(structure(operation[4])!, request, `${operationId} input`, problems);
      const response = entry.responses[String(code)].content["application/json"].schema;
      compare(structure(operation[5])!, response, `${operationId} output`, problems);
      const bearer = entry.parameters.map((p: { $ref: string }) =>
        spec.components.parameters[p.$ref.split("/").pop()!]
      ).find((p: { name: string }) => p.name === "X-Amz-Bearer");
      assert.ok(bearer?.required, "X-Amz-Bearer is a required header");
      assert.deepEqual(problems, []);
    });
  }

  await t.step("error shapes and their status codes", () => {
    for (
      const name of [
        "ValidationException",
        "AccessDeniedException",
        "ServiceQuotaExceededException",
        "ConflictException",
        "ThrottlingException",
        "InternalServerException",
      ]
    ) {
      const model = sdk[`${name}$`] as [number, string, string, { httpError: number }];
      const status = String(model[3].httpError);
      const description = spec.components.schemas[name].description as string;
      assert.equal(description, `Sent with status ${status}.`, name);
      const raisers = Object.values(spec.paths).flatMap((methods) =>
        Object.values(methods as Record<string, { responses: Record<string, { $ref?: string }> }>)
      ).filter((o) => o.responses[status]?.$ref === `#/components/responses/${name}`);
      assert.ok(raisers.length > 0, `${name} is raised with ${status}`);
    }
  });

  await t.step("enums", () => {
    const enums: Record<string, string> = {
      ConnectionType: "ConnectionType",
      ScanDirection: "ScanDirection",
      SortKey: "SortKey",
      ArtifactStatus: "ArtifactStatus",
      ChatItemType: "ChatItemType",
      ParticipantRole: "ParticipantRole",
      MessageProcessingStatus: "MessageProcessingStatus",
      MeetingFeatureStatus: "MeetingFeatureStatus",
    };
    for (const [model, schema] of Object.entries(enums)) {
      const values = Object.values(sdk[model] as Record<string, string>).sort();
      assert.deepEqual([...spec.components.schemas[schema].enum].sort(), values, model);
    }
  });
});
