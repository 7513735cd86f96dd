/**
 * The development page: a chat attachment page served by the worker at `/` when `DEV_PAGE`
 * is `true`, for trying the whole flow in a browser against the local stack. Off by default.
 *
 * @module
 */

import { Hono } from "hono/tiny";
import type { DevPageConfig, DevPageFactory } from "./dev_page_factory.ts";
import type { DevPageScripts } from "./_build/page_script.ts";
import indexHtml from "./page/index.html" with { type: "text" };
import pageCss from "./page/page.css" with { type: "text" };

/** Options of {@link devPage}. */
export interface DevPageOptions {
  /** The page's scripts as JavaScript (see `bundlePageScripts`). */
  scripts: DevPageScripts;
  /** What the page is told. */
  config: DevPageConfig;
}

/**
 * The page's Hono sub-app: `GET /` (the page), `/dev/page.js`, `/dev/page.css`,
 * `/dev/config.json`, and `/dev/browser.js` (the browser client as an ES module, to try from
 * the console: `const client = await import("/dev/browser.js")`). Mount it only where the page
 * is enabled.
 *
 * @param options The bundled script, and the service the page uses.
 * @returns The sub-app.
 *
 * @example
 * ```ts ignore
 * import { Hono } from "hono";
 * import { devPage } from "./dev_page.ts";
 * import { bundlePageScripts } from "./_build/page_script.ts";
 * const app = new Hono();
 * app.route("/", devPage({
 *   scripts: await bundlePageScripts(),
 *   config: { participantUrl: "http://127.0.0.1:8788" },
 * }));
 * ```
 */
export function devPage(options: DevPageOptions): Hono {
  const { scripts, config } = options;
  const participantOrigin = new URL(config.participantUrl).origin;
  const app = new Hono();
  const headers = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
  };
  app.get("/", (c) =>
    c.body(indexHtml, 200, {
      ...headers,
      "Content-Type": "text/html; charset=utf-8",
      "Content-Security-Policy": [
        "default-src 'none'",
        "script-src 'self'",
        "style-src 'self'",
        `connect-src 'self' ${participantOrigin}`,
        "img-src 'self' data:",
        "base-uri 'none'",
        "form-action 'none'",
        "frame-ancestors 'none'",
      ].join("; "),
      "Referrer-Policy": "no-referrer",
    }));
  const javascript = { ...headers, "Content-Type": "text/javascript; charset=utf-8" };
  app.get("/dev/page.js", (c) => c.body(scripts.page, 200, javascript));
  app.get("/dev/browser.js", (c) => c.body(scripts.client, 200, javascript));
  app.get(
    "/dev/page.css",
    (c) => c.body(pageCss, 200, { ...headers, "Content-Type": "text/css; charset=utf-8" }),
  );
  app.get("/dev/config.json", (c) => c.json(config, 200, headers));
  return app;
}

/**
 * The {@link DevPageFactory} for a set of bundled scripts: what development builds hand to
 * `createApp` as `devPage`.
 *
 * @param scripts The page's scripts as JavaScript (see `bundlePageScripts`).
 * @returns The factory.
 *
 * @example
 * ```ts ignore
 * import { devPageFactory } from "./dev_page.ts";
 * import { bundlePageScripts } from "./_build/page_script.ts";
 * const app = createApp(config, { devPage: devPageFactory(await bundlePageScripts()) });
 * ```
 */
export function devPageFactory(scripts: DevPageScripts): DevPageFactory {
  return (config) => devPage({ scripts, config });
}
