/**
 * The folders stand in layers, each importing only from those below it:
 *
 *   tests/, bench/, soak/  →  local/ (the emulator)  →  testing/ (the shared harness)
 *   →  worker/  →  src/, generated/
 *
 * bench/ and soak/ take nothing from tests/; the harness takes nothing from the emulator or
 * above it; the worker and the library take nothing from the tooling. Read from the sources'
 * relative imports (`from "..."`, `import("...")`, `new URL("...", import.meta.url)`).
 */
import assert from "node:assert/strict";
import { REPO_ROOT } from "./_run.ts";

/** For each folder, the folders it must never reach into. */
const NEVER: Record<string, string[]> = {
  "bench": ["tests"],
  "soak": ["tests", "bench"],
  "local": ["tests", "bench", "soak"],
  "testing": ["local", "tests", "bench", "soak"],
  "worker": ["testing", "local", "tests", "bench", "soak"],
  "src": ["worker", "testing", "local", "tests", "bench", "soak"],
};

const SPECIFIER = /(?:from\s+|import\s*\(\s*|new URL\(\s*)"(\.{1,2}\/[^"]*)"(?!\s*\+)/g;

function* sources(dir: string): Generator<string> {
  for (const entry of Deno.readDirSync(`${REPO_ROOT}${dir}`)) {
    const path = `${dir}/${entry.name}`;
    if (entry.isDirectory) yield* sources(path);
    else if (/\.(ts|js)$/.test(entry.name)) yield path;
  }
}

/** The top folder each relative import of a file lands in. */
function reachedFolders(file: string): { specifier: string; folder: string }[] {
  const text = Deno.readTextFileSync(`${REPO_ROOT}${file}`)
    // Examples in doc comments are not imports.
    .replace(/^\s*\*.*$/gm, "");
  const base = new URL(file, `file://${REPO_ROOT}`);
  return [...text.matchAll(SPECIFIER)].map(([, specifier]) => {
    const target = new URL(specifier, base).pathname.slice(REPO_ROOT.length);
    return { specifier, folder: target.split("/")[0] };
  });
}

for (const [folder, never] of Object.entries(NEVER)) {
  Deno.test(`${folder}/ imports nothing from ${never.join(", ")}`, () => {
    const crossings: string[] = [];
    let imports = 0;
    for (const file of sources(folder)) {
      for (const { specifier, folder: reached } of reachedFolders(file)) {
        imports++;
        if (never.includes(reached)) crossings.push(`${file} → ${specifier}`);
      }
    }
    assert.ok(imports > 0, `no relative import found in ${folder}/: the pattern misses them`);
    assert.deepEqual(crossings, []);
  });
}
