/**
 * The documentation holds to the code and to itself: the worker API page lists exactly the
 * worker's problem codes, each with its status; the configuration page lists exactly the
 * variables the worker reads and the bindings `wrangler.jsonc` declares, and no other page keeps
 * a table of them; every relative link in the README, `docs/` and `bench/README.md` leads to a
 * file, and every `#anchor` to a heading there; the README stays within 250 lines.
 */
import assert from "node:assert/strict";
import { parse } from "yaml";
import { parseConfig } from "../worker/config.ts";
import { PROBLEM_STATUS } from "../worker/problem.ts";

const ROOT = new URL("../", import.meta.url);

/** The pages whose links are checked, relative to the repository. */
function pages(): string[] {
  const docs = [...Deno.readDirSync(new URL("docs/", ROOT))]
    .filter((entry) => entry.isFile && entry.name.endsWith(".md"))
    .map((entry) => `docs/${entry.name}`)
    .sort();
  return ["README.md", "bench/README.md", ...docs];
}

function read(path: string): string {
  return Deno.readTextFileSync(new URL(path, ROOT));
}

/** The page's lines outside fenced code blocks (a `# comment` in a shell block is no heading). */
function prose(markdown: string): string[] {
  let fenced = false;
  return markdown.split("\n").map((line) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return "";
    }
    return fenced ? "" : line;
  });
}

/** The cells of each row of the tables under `heading` (up to the next heading of its level). */
function tableRows(markdown: string, heading: string): string[][] {
  const lines = prose(markdown);
  const start = lines.indexOf(heading);
  assert.notEqual(start, -1, `no heading "${heading}"`);
  const level = heading.match(/^#+/)![0];
  const end = lines.findIndex((line, i) =>
    i > start && new RegExp(`^#{1,${level.length}} `).test(line)
  );
  return lines.slice(start + 1, end === -1 ? undefined : end)
    .filter((line) => line.startsWith("|"))
    .map((line) => line.slice(1, line.trimEnd().endsWith("|") ? -1 : undefined))
    .map((line) => line.split("|").map((cell) => cell.trim()))
    .filter((cells) => !cells.every((cell) => /^:?-+:?$/.test(cell))); // the separator row
}

/** The names in a cell's code spans: "`a`, `b`" → ["a", "b"]. */
function codeSpans(cell: string): string[] {
  return [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1]);
}

/** Differences between two sets, worded for a failing assertion. */
function difference(documented: Set<string>, actual: Set<string>, what: string): string[] {
  const missing = [...actual].filter((x) => !documented.has(x));
  const unknown = [...documented].filter((x) => !actual.has(x));
  return [
    ...missing.map((x) => `${what} ${x} has no row in the docs`),
    ...unknown.map((x) => `the docs have a row for ${x}, which is no ${what}`),
  ];
}

Deno.test("docs/worker-api.md's error table lists every problem code of the worker, with its status, and nothing else", () => {
  const rows = tableRows(read("docs/worker-api.md"), "## Errors");
  const [header, ...body] = rows;
  assert.deepEqual(header.slice(0, 2), ["status", "`code`"]);
  const documented = new Map<string, number>();
  for (const [status, codes] of body) {
    assert.ok(codeSpans(codes).length > 0, `a row without a code: | ${status} | ${codes} |`);
    for (const code of codeSpans(codes)) {
      assert.ok(!documented.has(code), `${code} has two rows`);
      documented.set(code, Number(status));
    }
  }

  // The worker's codes: those its OpenAPI document enumerates and those its status table maps
  // (one set, which `deno check` holds worker/problem.ts to).
  const spec = parse(read("worker/openapi.yaml"));
  const codes = new Set<string>([
    ...spec.components.schemas.ProblemCode.enum,
    ...Object.keys(PROBLEM_STATUS),
  ]);
  assert.deepEqual(difference(new Set(documented.keys()), codes, "problem code"), []);

  const wrongStatus = [...documented]
    .filter(([code, status]) => PROBLEM_STATUS[code as keyof typeof PROBLEM_STATUS] !== status)
    .map(([code, status]) =>
      `${code}: the docs say ${status}, the worker answers ${
        PROBLEM_STATUS[code as keyof typeof PROBLEM_STATUS]
      }`
    );
  assert.deepEqual(wrongStatus, []);
});

/** Every variable `parseConfig` reads, seen by handing it an environment that records reads. */
function variablesTheWorkerReads(): Set<string> {
  const read = new Set<string>();
  const env = new Proxy({ AWS_REGION: "us-east-1" } as Record<string, unknown>, {
    get(target, key) {
      if (typeof key === "string") read.add(key);
      return target[key as string];
    },
  });
  parseConfig(env);
  return read;
}

/** The bindings `worker/wrangler.jsonc` declares besides its `vars`. */
function declaredBindings(): Set<string> {
  const jsonc = read("worker/wrangler.jsonc")
    .split("\n")
    .filter((line) => !line.trimStart().startsWith("//"))
    .join("\n")
    .replace(/,(\s*[}\]])/g, "$1");
  const config = JSON.parse(jsonc);
  const bindings = new Set<string>();
  if (config.assets?.binding) bindings.add(config.assets.binding);
  for (const kind of ["ratelimits", "kv_namespaces", "r2_buckets", "d1_databases", "services"]) {
    for (const entry of config[kind] ?? []) bindings.add(entry.name ?? entry.binding);
  }
  const readByTheWorker = variablesTheWorkerReads();
  for (const name of Object.keys(config.vars ?? {})) {
    assert.ok(
      readByTheWorker.has(name),
      `wrangler.jsonc sets ${name}, which the worker never reads`,
    );
  }
  return bindings;
}

Deno.test("docs/configuration.md has a row for every variable the worker reads and every binding wrangler.jsonc declares, and nothing else", () => {
  const page = read("docs/configuration.md");
  const variables = tableRows(page, "## Variables").slice(1).map(([name]) => codeSpans(name)[0]);
  assert.deepEqual(difference(new Set(variables), variablesTheWorkerReads(), "variable"), []);
  const bindings = tableRows(page, "## Bindings on Cloudflare").slice(1)
    .map(([name]) => codeSpans(name)[0]);
  assert.deepEqual(difference(new Set(bindings), declaredBindings(), "binding"), []);
});

Deno.test("no page but docs/configuration.md keeps a table of the worker's variables", () => {
  const variables = variablesTheWorkerReads();
  const elsewhere = pages()
    .filter((path) => path !== "docs/configuration.md")
    .flatMap((path) =>
      prose(read(path))
        .filter((line) => line.startsWith("|"))
        .map((line) => /^`([^`]+)`$/.exec(line.split("|")[1]?.trim() ?? "")?.[1])
        .filter((name) => name !== undefined && variables.has(name))
        .map((name) => `${path}: a table row for ${name}`)
    );
  assert.deepEqual(elsewhere, []);
});

/** GitHub's anchor of a heading: its text as rendered, lower-case, punctuation out, `-` for spaces. */
function slug(heading: string): string {
  return heading
    .replace(/!?\[([^\]]*)\]\([^)]*\)/g, "$1") // a link's text
    .replace(/[`*]/g, "")
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replaceAll(" ", "-");
}

/** Every anchor a page has, numbered as GitHub numbers repeated headings (`x`, `x-1`, ...). */
function anchors(markdown: string): Set<string> {
  const seen = new Map<string, number>();
  const result = new Set<string>();
  for (const line of prose(markdown)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading === undefined) continue;
    const base = slug(heading);
    const count = seen.get(base) ?? 0;
    seen.set(base, count + 1);
    result.add(count === 0 ? base : `${base}-${count}`);
  }
  return result;
}

/** The targets of a page's links and images (inline and reference-style), outside code. */
function links(markdown: string): string[] {
  const text = prose(markdown).join("\n").replace(/`[^`\n]*`/g, "");
  return [
    ...[...text.matchAll(/\]\(\s*<?([^)\s>]*)>?(?:\s+"[^"]*")?\s*\)/g)].map((m) => m[1]),
    ...[...text.matchAll(/^\s*\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/gm)].map((m) => m[1]),
  ];
}

/** What is wrong with each relative link of a page: a missing file or a missing heading. */
function brokenLinks(path: string): string[] {
  const broken: string[] = [];
  for (const target of links(read(path))) {
    if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:, ...
    const [file, anchor] = target.split("#", 2);
    const resolved = file === ""
      ? path
      : new URL(file, new URL(path, "file:///")).pathname.slice(1);
    let exists = true;
    try {
      Deno.statSync(new URL(resolved, ROOT));
    } catch {
      exists = false;
    }
    if (!exists) {
      broken.push(`${path}: ${target}: no file ${resolved}`);
    } else if (anchor !== undefined) {
      if (!resolved.endsWith(".md")) broken.push(`${path}: ${target}: an anchor into no page`);
      else if (!anchors(read(resolved)).has(decodeURIComponent(anchor))) {
        broken.push(`${path}: ${target}: no heading #${anchor} in ${resolved}`);
      }
    }
  }
  return broken;
}

Deno.test("every relative link in the README, docs/ and bench/README.md resolves to a file, and every #anchor to a heading", () => {
  const checked = pages();
  assert.ok(checked.length >= 10, `only ${checked.length} pages found`);
  assert.deepEqual(checked.flatMap(brokenLinks), []);
});

Deno.test("the anchors are GitHub's: punctuation out, code and links as their text, repeats numbered", () => {
  assert.deepEqual(
    [...anchors(
      "# A\n## `PUT /attachments/{name}`\n## curl and `Expect: 100-continue`\n" +
        "## Options of `startLocalStack`\n## `MAX_ATTACHMENT_BYTES` and `ALLOWED_TYPES`\n" +
        "## Where the targets are missed, and why\n## [Soak](x.md)\n## A\n```sh\n# no heading\n```\n",
    )],
    [
      "a",
      "put-attachmentsname",
      "curl-and-expect-100-continue",
      "options-of-startlocalstack",
      "max_attachment_bytes-and-allowed_types",
      "where-the-targets-are-missed-and-why",
      "soak",
      "a-1",
    ],
  );
  assert.deepEqual(
    links('[a](b.md) `[c](d.md)` ![e](f.png "t")\n```\n[g](h.md)\n```\n[i]: j.md#k\n'),
    ["b.md", "f.png", "j.md#k"],
  );
});

Deno.test("the README is at most 250 lines", () => {
  const lines = read("README.md").replace(/\n$/, "").split("\n").length;
  assert.ok(lines <= 250, `README.md has ${lines} lines`);
});
