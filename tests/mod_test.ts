import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient, downloadAttachment } from "../src/mod.ts";
import { serveModules } from "../testing/module_host.ts";
import { randomBytes, sha256 } from "../testing/data.ts";
import { REPO_ROOT, runDeno } from "./_run.ts";

Deno.test("a script in an empty folder imports src/mod.ts and src/cli.ts by URL and uploads to the local stack", async () => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const host = serveModules(REPO_ROOT, { port: 0 });
  const dir = await Deno.makeTempDir({ prefix: "url-import-" });
  try {
    const chat = await openChat(createParticipantClient({ endpoint: stack.participantUrl }));
    const bytes = randomBytes(120_000, 31);
    await Deno.writeFile(`${dir}/photo.png`, bytes);
    await Deno.writeTextFile(
      `${dir}/send.ts`,
      `import { connect, uploadAttachment } from "${host.url}/src/mod.ts";
const endpoint = Deno.env.get("CONNECT_ENDPOINT")!;
const { connectionToken } = await connect({
  endpoint,
  participantToken: Deno.env.get("CONNECT_PARTICIPANT_TOKEN")!,
});
const sent = await uploadAttachment({ endpoint, connectionToken, file: "photo.png" });
console.log(JSON.stringify(sent));
`,
    );
    const env = {
      CONNECT_ENDPOINT: stack.participantUrl,
      CONNECT_PARTICIPANT_TOKEN: chat.participantToken,
    };
    // No deno.json anywhere up from the folder: every import must resolve on its own.
    const script = await runDeno(["run", "-A", `--reload=${host.url}`, "send.ts"], {
      cwd: dir,
      env,
    });
    assert.equal(script.code, 0, script.stderr);
    const sent = JSON.parse(script.stdout);
    assert.equal(sent.name, "photo.png");
    assert.equal(sent.contentType, "image/png");
    const download = await downloadAttachment({
      endpoint: stack.participantUrl,
      connectionToken: chat.connectionToken,
      attachmentId: sent.attachmentId,
    });
    assert.equal(
      await sha256(await new Response(download.body).arrayBuffer()),
      await sha256(bytes),
    );

    const cli = await runDeno(
      ["run", "-A", `--reload=${host.url}`, `${host.url}/src/cli.ts`, "list", "--json"],
      { cwd: dir, env },
    );
    assert.equal(cli.code, 0, cli.stderr);
    assert.deepEqual(JSON.parse(cli.stdout).map((a: { name: string }) => a.name), ["photo.png"]);
  } finally {
    await host.close();
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("src/ imports only relative paths, node: built-ins and pinned npm: specifiers", async () => {
  const files = await sourceFiles(`${REPO_ROOT}src`);
  assert.ok(files.some((file) => file.includes("/_core/")), "the walk reaches src/'s folders");
  for (const file of files) {
    const source = await Deno.readTextFile(file);
    const code = source.replace(/\/\*\*[\s\S]*?\*\//g, "");
    for (const [, specifier] of code.matchAll(/(?:from|import)\s*\(?\s*"([^"]+)"/g)) {
      assert.match(
        specifier,
        /^(\.\.?\/.+\.ts|node:[a-z/_]+|npm:(@[a-z0-9-]+\/)?[a-z0-9.-]+@\d+\.\d+\.\d+(\/.*)?)$/,
        `${file} imports ${specifier}`,
      );
    }
  }
});

Deno.test("src/ shows its audiences: mod.ts, cli.ts and browser.ts public, all else internal", async () => {
  const shown: string[] = [];
  for await (const entry of Deno.readDir(`${REPO_ROOT}src`)) {
    if (!entry.name.startsWith("_")) shown.push(entry.name);
  }
  assert.deepEqual(shown.sort(), ["browser.ts", "cli.ts", "mod.ts"]);
});

/** Every `.ts` file below a folder. */
async function sourceFiles(dir: string): Promise<string[]> {
  const found: string[] = [];
  for await (const entry of Deno.readDir(dir)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) found.push(...await sourceFiles(path));
    else if (entry.name.endsWith(".ts")) found.push(path);
  }
  return found;
}

Deno.test("JSR-ready: deno doc --lint passes, every export has an @example, deno publish --dry-run passes", async () => {
  const lint = await runDeno(["doc", "--lint", "src/mod.ts", "src/cli.ts", "src/browser.ts"], {
    cwd: REPO_ROOT,
  });
  assert.equal(lint.code, 0, lint.stderr);

  const doc = await runDeno(["doc", "--json", "src/mod.ts"], { cwd: REPO_ROOT });
  assert.equal(doc.code, 0, doc.stderr);
  const nodes = docNodes(JSON.parse(doc.stdout));
  const names = new Set(nodes.map((n) => n.name));
  for (
    const expected of [
      "uploadAttachment",
      "connect",
      "downloadAttachment",
      "listAttachments",
      "createParticipantClient",
      "AttachmentError",
    ]
  ) assert.ok(names.has(expected), `mod.ts exports ${expected}`);
  const withoutExample = nodes
    .filter((n) => n.kind !== "moduleDoc" && n.kind !== "import")
    .filter((n) => !(n.jsDoc?.tags ?? []).some((t) => t.kind === "example"))
    .map((n) => n.name);
  assert.deepEqual(withoutExample, [], "exports without an @example");

  const publish = await runDeno(["publish", "--dry-run", "--allow-dirty"], { cwd: REPO_ROOT });
  assert.equal(publish.code, 0, publish.stderr);
  assert.match(publish.stderr, /Success.*Dry run complete/);
  // Paths are read relative to the checkout, whose own path may hold such a name.
  const listed = publish.stderr.replaceAll(REPO_ROOT, "/");
  assert.doesNotMatch(listed, /\/tests\/|\/local\//, "tests and the local stack stay out");
});

Deno.test("the examples in src/ run: deno test --doc", async () => {
  const result = await runDeno(["test", "--doc", "--allow-read", "src/"], { cwd: REPO_ROOT });
  assert.equal(result.code, 0, result.stdout + result.stderr);
  assert.match(result.stdout, /ok \| \d+ passed \| 0 failed/);
});

interface DocNode {
  name: string;
  kind: string;
  jsDoc?: { tags?: { kind: string }[] };
}

/** The top-level nodes of `deno doc --json`, whatever the output's version. */
function docNodes(json: unknown): DocNode[] {
  if (Array.isArray(json)) return json as DocNode[];
  const nodes = (json as { nodes: unknown }).nodes;
  if (Array.isArray(nodes)) return nodes as DocNode[];
  return Object.values(nodes as Record<string, { symbols?: DocNode[] }>)
    .flatMap((module) =>
      (module.symbols ?? []).flatMap((symbol) => {
        const declarations = (symbol as unknown as { declarations?: DocNode[] }).declarations;
        return declarations ? declarations.map((d) => ({ ...d, name: symbol.name })) : [symbol];
      })
    );
}
