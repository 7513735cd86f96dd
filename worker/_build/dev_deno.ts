/**
 * The upload worker under Deno with its development page, as `worker/deno.ts` serves it
 * otherwise: the development counterpart of that production entry point, as the development
 * bundle is of the Workers one. The page is still served only where `DEV_PAGE=true`.
 *
 * ```sh
 * DEV_PAGE=true PARTICIPANT_ENDPOINT=http://127.0.0.1:8788 UPLOAD_HOSTS=127.0.0.1:4568 \
 *   deno run --allow-net --allow-env --allow-read --allow-run worker/_build/dev_deno.ts --port 0
 * ```
 *
 * @module
 */

import { devPageFactory } from "../dev_page.ts";
import { serveWorker } from "../deno.ts";
import { bundlePageScripts } from "./page_script.ts";

const wanted = Deno.env.get("DEV_PAGE")?.trim().toLowerCase() === "true";
serveWorker({ devPage: wanted ? devPageFactory(await bundlePageScripts()) : undefined });
