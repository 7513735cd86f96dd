/**
 * The upload worker's bundles for workerd: the production bundle (`deno task build`,
 * `worker/build.ts`) is `worker/workers.ts` alone; the development bundle (`deno task start`)
 * also carries the development page and its scripts (bundled for the browser first: browsers
 * cannot run TypeScript), served wherever `DEV_PAGE` is `true`.
 *
 * The bundler is esbuild (the one wrangler uses), for the browser platform, minified, with two
 * plugins: `npm:` specifiers resolve to the packages `deno install` put in `node_modules/`, and
 * three helpers of Hono's that its base classes import for features the worker never uses
 * (`app.mount()`, `c.req.parseBody()` and `c.html()` with async content) are left out, which
 * keeps 1.5 KB (gzip) out of the bundle; calling any of them in the bundle throws.
 *
 * @module
 */

import * as esbuild from "esbuild";
import { bundlePageScripts } from "./page_script.ts";

const ROOT = new URL("../..", import.meta.url).pathname;

/** Where `deno task build` puts the bundle, and where `worker/wrangler.jsonc` looks for it. */
export const WORKER_BUNDLE: string = `${ROOT}dist/worker.js`;

/** Where the development bundle (with the page) goes. */
export const DEV_WORKER_BUNDLE: string = `${ROOT}dist/dev/worker.js`;

/** Options of {@link buildWorkerBundle}. */
export interface BundleOptions {
  /** Whether to include the development page. @default {false} */
  devPage?: boolean;
}

/**
 * Bundles the worker (see {@link bundleWorker}), with the development page when asked. The bundle is made under a temporary name and renamed into place only
 * when it differs from what is there, so that a running `wrangler dev` never sees half a file
 * or a needless change.
 *
 * @param out Where the bundle goes. @default {WORKER_BUNDLE}
 * @param options Whether to include the development page.
 * @returns Whether the file changed.
 * @throws {Error} With esbuild's messages when bundling fails.
 *
 * @example
 * ```ts ignore
 * import { buildWorkerBundle } from "./bundle.ts";
 * await buildWorkerBundle();
 * ```
 */
export async function buildWorkerBundle(
  out: string = WORKER_BUNDLE,
  options: BundleOptions = {},
): Promise<boolean> {
  await Deno.mkdir(out.slice(0, out.lastIndexOf("/")), { recursive: true });
  const id = crypto.randomUUID();
  const temporary = `${out}.${id}.tmp`;
  // The entry hands the page's scripts to the Workers module. It is written under dist/
  // (inside the project, so that deno.json's import map applies), never among the sources.
  const entry = `${ROOT}dist/entry-${id}.ts`;
  await Deno.mkdir(`${ROOT}dist`, { recursive: true });
  await Deno.writeTextFile(
    entry,
    options.devPage
      ? `import { createWorker } from "../worker/workers.ts";\n` +
        `import { devPageFactory } from "../worker/dev_page.ts";\n` +
        `export default createWorker({ devPage: devPageFactory(${
          JSON.stringify(await bundlePageScripts())
        }) });\n`
      : `export { default } from "../worker/workers.ts";\n`,
  );
  try {
    const fresh = new TextEncoder().encode(await bundleWorker(entry));
    const current = await Deno.readFile(out).catch(() => undefined);
    if (current && current.length === fresh.length && current.every((b, i) => b === fresh[i])) {
      return false;
    }
    await Deno.writeFile(temporary, fresh);
    await Deno.rename(temporary, out);
    return true;
  } finally {
    await Deno.remove(entry).catch(() => {});
    await Deno.remove(temporary).catch(() => {});
  }
}

/**
 * Bundles a worker entry into one minified ES module for workerd.
 *
 * @param entry The entry module's path.
 * @returns The JavaScript.
 * @throws {Error} With esbuild's messages when bundling fails.
 *
 * @example
 * ```ts ignore
 * import { bundleWorker } from "./bundle.ts";
 * const js = await bundleWorker("worker/workers.ts");
 * ```
 */
export async function bundleWorker(entry: string): Promise<string> {
  try {
    const { outputFiles } = await esbuild.build({
      entryPoints: [entry],
      bundle: true,
      platform: "browser",
      format: "esm",
      minify: true,
      write: false,
      logLevel: "silent",
      plugins: [npmSpecifiers, textImports, unusedHonoHelpers],
    });
    return outputFiles[0].text;
  } finally {
    await esbuild.stop();
  }
}

/**
 * An esbuild plugin that resolves Deno's `npm:` specifiers (`npm:openapi-fetch@0.17.0`, with or
 * without a subpath) to the packages installed in `node_modules/`, which `deno install` fills
 * from the same pinned versions.
 */
export const npmSpecifiers: esbuild.Plugin = {
  name: "npm-specifiers",
  setup(build) {
    build.onResolve({ filter: /^npm:/ }, (args) => {
      const match = /^npm:\/?((?:@[^/]+\/)?[^@/]+)(?:@[^/]+)?(\/.*)?$/.exec(args.path);
      if (!match) return { errors: [{ text: `unreadable specifier ${args.path}` }] };
      return build.resolve(match[1] + (match[2] ?? ""), {
        kind: args.kind,
        resolveDir: args.resolveDir,
      });
    });
  },
};

/**
 * An esbuild plugin for Deno's text imports (`import page from "./index.html" with { type:
 * "text" }`, as the development page has them): the file's text as the default export.
 */
const textImports: esbuild.Plugin = {
  name: "text-imports",
  setup(build) {
    build.onResolve(
      { filter: /.*/ },
      (args) =>
        args.with?.type === "text"
          ? { path: new URL(args.path, `file://${args.resolveDir}/`).pathname, namespace: "text" }
          : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "text" }, async (args) => ({
      contents: await Deno.readTextFile(args.path),
      loader: "text",
    }));
  },
};

/** What stands in for Hono's helpers of features the worker never uses. */
const UNUSED_HONO_HELPERS: Record<string, string> = {
  "./utils/mount.js": "export const createMountedRequest = () => {\n" +
    '  throw new Error("app.mount() is not in this build");\n};\n',
  "./utils/body.js": "export const parseBody = () => {\n" +
    '  throw new Error("c.req.parseBody() is not in this build");\n};\n',
  "./utils/html.js": "export const HtmlEscapedCallbackPhase = { Stringify: 1 };\n" +
    "export const resolveCallback = () => {\n" +
    '  throw new Error("c.html() with async content is not in this build");\n};\n',
};

/**
 * An esbuild plugin that leaves out the helpers behind Hono's `app.mount()`,
 * `c.req.parseBody()` and `c.html()` with async content: Hono's base classes import them
 * statically, so no bundler can drop them, though the worker calls none of them (the
 * development page is routed with `app.route()` and served as a plain `Response`).
 */
const unusedHonoHelpers: esbuild.Plugin = {
  name: "unused-hono-helpers",
  setup(build) {
    build.onResolve(
      { filter: /^\.\/utils\/(mount|body|html)\.js$/ },
      (args) =>
        /[\\/]hono[\\/]dist$/.test(args.resolveDir)
          ? { path: args.path, namespace: "unused-hono-helper" }
          : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: "unused-hono-helper" }, (args) => ({
      contents: UNUSED_HONO_HELPERS[args.path],
      loader: "js",
    }));
  },
};
