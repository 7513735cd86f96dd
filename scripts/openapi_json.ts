/**
 * Writes an OpenAPI YAML document as JSON, so that code can import it (`with { type: "json" }`)
 * without a YAML parser at run time. `--check` fails instead of writing when the JSON is stale.
 *
 * ```sh
 * deno run -A scripts/openapi_json.ts worker/openapi.yaml generated/worker-openapi.json [--check]
 * ```
 *
 * @module
 */

import { parse } from "yaml";

const [source, target] = Deno.args.filter((arg) => !arg.startsWith("--"));
const check = Deno.args.includes("--check");
if (!source || !target) {
  console.error("usage: openapi_json.ts <openapi.yaml> <out.json> [--check]");
  Deno.exit(2);
}
const json = JSON.stringify(parse(await Deno.readTextFile(source)), null, 2) + "\n";
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
