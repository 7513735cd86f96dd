/**
 * The seam between the app and the development page: the app takes a factory, so that only
 * development builds carry the page.
 *
 * @module
 */

import type { Hono } from "hono/tiny";

/** What the page is told through `/dev/config.json`. */
export interface DevPageConfig {
  /**
   * The Participant Service the page starts chats on (it must allow the page's origin). The
   * page learns the worker's limits from `GET /policy`, as any client does.
   */
  participantUrl: string;
}

/**
 * Makes the page's sub-app for a worker's settings.
 *
 * @example
 * ```ts ignore
 * import { devPageFactory } from "./dev_page.ts";
 * const app = createApp(config, { devPage: devPageFactory(await bundlePageScripts()) });
 * ```
 */
export type DevPageFactory = (config: DevPageConfig) => Hono;
