/**
 * Writes an OpenAPI YAML document as JSON, so that code can import it (`with { type: "json" }`)
 * without a YAML parser at run time. `--check` fails instead of writing when the JSON is stale.
 * `--without-descriptions` leaves out every `description`, the document's own (`info`) too: the
 * contract stays whole (paths, parameters, schemas, responses, summaries), its prose stays in
 * the YAML. The worker serves this form at `/openapi.json`: in workerd as a static asset
 * (`generated/assets/`, wrangler's `assets`), under Deno from a static import.
 *
 * ```sh
 * deno run -A worker/_build/openapi_json.ts worker/openapi.yaml generated/assets/openapi.json \
 *   [--without-descriptions] [--check]
 * ```
 *
 * @module
 */

import { parse } from "yaml";

const [source, target] = Deno.args.filter((arg) => !arg.startsWith("--"));
const check = Deno.args.includes("--check");
const withoutDescriptions = Deno.args.includes("--without-descriptions");
if (!source || !target) {
  console.error(
    "usage: openapi_json.ts <openapi.yaml> <out.json> [--without-descriptions] [--check]",
  );
  Deno.exit(2);
}
const document = parse(await Deno.readTextFile(source));
const json = JSON.stringify(
  withoutDescriptions ? withoutProse(document) : document,
  null,
  2,
) + "\n";
if (check) {
  const current = await Deno.readTextFile(target).catch(() => "");
  if (current !== json) {
    console.error(`${target} is stale: run deno task gen`);
    Deno.exit(1);
  }
  console.log(`${target} is current`);
} else {
  await Deno.writeTextFile(target, json);
  console.log(`wrote ${target}`);
}

/** The value with every `description` key left out. */
function withoutProse(value: unknown): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutProse(item));
  if (typeof value !== "object" || value === null) return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => key !== "description")
      .map(([key, item]) => [key, withoutProse(item)]),
  );
}
