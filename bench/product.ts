/**
 * The upload worker as it deploys: the project's own wrangler configuration, built with
 * `wrangler deploy --dry-run --minify` into a folder, with the settings workerd needs to
 * serve the result on its own.
 *
 * @module
 */

import { type BuiltWorker, wranglerBuild } from "./bundling.ts";

/** The built upload worker. */
export interface ProductWorker extends BuiltWorker {
  /** The deployable script. */
  script: string;
  compatibilityDate: string;
  compatibilityFlags: string[];
  /** The configuration's `vars`, as strings. */
  vars: Record<string, string>;
  /** How it was built, for the results. */
  description: string;
}

const ROOT = new URL("..", import.meta.url).pathname;
const CONFIG_NAMES = [
  "worker/wrangler.jsonc",
  "worker/wrangler.json",
  "worker/wrangler.toml",
  "wrangler.jsonc",
  "wrangler.json",
  "wrangler.toml",
];

/**
 * Builds the upload worker the way it deploys: the build task first when `deno.json` has
 * one (`build:worker` or `build`), then `wrangler deploy --dry-run --minify --outdir`.
 *
 * @param dir A folder for the output.
 * @returns The deployable script, its sizes and its settings.
 *
 * @example
 * ```ts ignore
 * import { buildProductWorker } from "./product.ts";
 * const worker = await buildProductWorker(await Deno.makeTempDir());
 * console.log(worker.gzipBytes);
 * ```
 */
export async function buildProductWorker(dir: string): Promise<ProductWorker> {
  const configName = CONFIG_NAMES.find((name) => exists(`${ROOT}${name}`));
  if (!configName) throw new Error(`no wrangler configuration in ${ROOT}`);
  const tasks = (JSON.parse(await Deno.readTextFile(`${ROOT}deno.json`)).tasks ?? {}) as Record<
    string,
    unknown
  >;
  const buildTask = ["build:worker", "build"].find((t) => t in tasks);
  if (buildTask) {
    const built = await new Deno.Command(Deno.execPath(), {
      args: ["task", buildTask],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    if (!built.success) {
      throw new Error(
        `deno task ${buildTask} failed: ${new TextDecoder().decode(built.stderr).slice(-1000)}`,
      );
    }
  }
  const outdir = `${dir}/product`;
  await Deno.mkdir(outdir, { recursive: true });
  const built = await wranglerBuild(`${ROOT}${configName}`, outdir, ROOT);
  const settings = readSettings(await Deno.readTextFile(`${ROOT}${configName}`), configName);
  return {
    ...built,
    script: built.file,
    ...settings,
    description: `${buildTask ? `deno task ${buildTask}, then ` : ""}wrangler deploy --dry-run ` +
      `--minify --config ${configName}`,
  };
}

/** Compatibility date, flags and vars from a wrangler configuration. */
function readSettings(
  text: string,
  name: string,
): Pick<ProductWorker, "compatibilityDate" | "compatibilityFlags" | "vars"> {
  if (name.endsWith(".toml")) {
    const date = /^\s*compatibility_date\s*=\s*"([^"]+)"/m.exec(text)?.[1] ?? "2025-01-01";
    const flags = /^\s*compatibility_flags\s*=\s*\[([^\]]*)\]/m.exec(text)?.[1] ?? "";
    const vars: Record<string, string> = {};
    const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[|$(?![\s\S]))/m.exec(text)?.[1] ?? "";
    for (const match of section.matchAll(/^\s*([A-Za-z_][\w]*)\s*=\s*"([^"]*)"/gm)) {
      vars[match[1]] = match[2];
    }
    return {
      compatibilityDate: date,
      compatibilityFlags: [...flags.matchAll(/"([^"]+)"/g)].map((m) => m[1]),
      vars,
    };
  }
  const json = JSON.parse(stripJsonComments(text)) as {
    compatibility_date?: string;
    compatibility_flags?: string[];
    vars?: Record<string, unknown>;
  };
  return {
    compatibilityDate: json.compatibility_date ?? "2025-01-01",
    compatibilityFlags: json.compatibility_flags ?? [],
    vars: Object.fromEntries(
      Object.entries(json.vars ?? {}).map((
        [k, v],
      ) => [k, typeof v === "string" ? v : JSON.stringify(v)]),
    ),
  };
}

/** Removes `//` and `/* *\/` comments and trailing commas outside strings. */
function stripJsonComments(text: string): string {
  let out = "";
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      const end = skipString(text, i);
      out += text.slice(i, end);
      i = end - 1;
    } else if (c === "/" && text[i + 1] === "/") {
      while (i < text.length && text[i] !== "\n") i++;
      out += "\n";
    } else if (c === "/" && text[i + 1] === "*") {
      i = text.indexOf("*/", i + 2) + 1;
      if (i === 0) break;
    } else {
      out += c;
    }
  }
  return out.replace(/,(\s*[}\]])/g, "$1");
}

function skipString(text: string, start: number): number {
  let i = start + 1;
  while (i < text.length && text[i] !== '"') i += text[i] === "\\" ? 2 : 1;
  return i + 1;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}
