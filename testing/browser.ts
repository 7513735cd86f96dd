/**
 * Debian's Chromium, driven by playwright-core (no browser download), for the browser tests
 * and the benchmark's browser figure. Where Chromium is missing, the browser tests are ignored
 * with a message.
 *
 * @module
 */

import { chromium } from "npm:playwright-core@1.65.1";
import type { BrowserContext, Page } from "npm:playwright-core@1.65.1";

export type { BrowserContext, Page };

/** Where Debian's `chromium` package puts the browser; `CHROMIUM_PATH` overrides it. */
export const CHROMIUM_PATH: string = Deno.env.get("CHROMIUM_PATH") ?? "/usr/bin/chromium";

/** Whether a Chromium is installed at {@link CHROMIUM_PATH}. */
export const hasChromium: boolean = (() => {
  try {
    return Deno.statSync(CHROMIUM_PATH).isFile;
  } catch {
    return false;
  }
})();

/**
 * The `ignore` value for a browser test: `true` when Chromium is missing, and then it says
 * so once, on stderr, with the way to install it. Never under CI (`CI=true`), which runs
 * every test: there the test runs and fails without Chromium.
 *
 * @param what The tests that will not run, for the message.
 * @returns Whether to ignore them.
 */
export function ignoreWithoutChromium(what: string): boolean {
  // CI runs every test: there a missing Chromium fails the browser tests instead.
  if (Deno.env.get("CI") === "true") return false;
  if (!hasChromium) {
    console.error(
      `${what}: ignored, no Chromium at ${CHROMIUM_PATH}. Install it with ` +
        "`apt-get install -y chromium` (bash tests/setup.sh does it as root), or set CHROMIUM_PATH.",
    );
  }
  return !hasChromium;
}

/** Flags for a quiet, headless, offline Chromium. */
export const CHROMIUM_ARGS: readonly string[] = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

/** A running browser with a fresh profile. */
export interface TestBrowser {
  /** The browser context (one profile, downloads accepted). */
  context: BrowserContext;
  /** Opens a page that fails the test on any uncaught page error. */
  newPage(): Promise<Page>;
  /** Uncaught errors seen in any page so far. */
  pageErrors: string[];
  /** Closes the browser and removes its profile. */
  close(): Promise<void>;
}

/**
 * Launches headless Chromium with a fresh profile in a temporary folder.
 *
 * @param options The viewport.
 * @returns The browser.
 */
export async function launchBrowser(
  options: { viewport?: { width: number; height: number } } = {},
): Promise<TestBrowser> {
  const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    args: [...CHROMIUM_ARGS],
    headless: true,
    acceptDownloads: true,
    viewport: options.viewport ?? { width: 900, height: 1000 },
  });
  const pageErrors: string[] = [];
  return {
    context,
    pageErrors,
    async newPage() {
      const page = await context.newPage();
      page.on("pageerror", (error) => pageErrors.push(error.message));
      return page;
    },
    async close() {
      await context.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
    },
  };
}
