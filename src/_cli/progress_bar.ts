/**
 * The command line's progress bar: bytes, percentage, rate and time left, redrawn in place
 * on one terminal line.
 *
 * @module
 */

import type { TransferProgress } from "../_library/progress.ts";

/**
 * Formats a byte count with SI units: `999 B`, `1.5 kB`, `20.0 MB`.
 *
 * @param bytes A number of bytes.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatBytes } from "./progress_bar.ts";
 * assert.equal(formatBytes(999), "999 B");
 * assert.equal(formatBytes(1_500_000), "1.5 MB");
 * ```
 */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 1000) return `${Math.max(0, Math.round(bytes || 0))} B`;
  const units = ["kB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.95 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

/**
 * Formats a number of seconds as `7s`, `2m05s` or `1h02m`.
 *
 * @param seconds A duration.
 * @returns The text.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { formatDuration } from "./progress_bar.ts";
 * assert.equal(formatDuration(125), "2m05s");
 * ```
 */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.ceil(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
}

/** What {@link progressLine} draws. */
export interface ProgressLineInput extends TransferProgress {
  /** What is moving, such as the file name. */
  label: string;
  /** Time since the transfer started, in milliseconds. */
  elapsedMs: number;
  /** The bar's width in characters. @default {24} */
  barWidth?: number;
}

/**
 * Draws one line of progress: label, bar, percentage, bytes, rate and time left.
 *
 * @param input The label, the progress and the time spent.
 * @returns The line, without a line break.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { progressLine } from "./progress_bar.ts";
 * const line = progressLine({ label: "a.pdf", loaded: 5e6, total: 10e6, elapsedMs: 2000, barWidth: 10 });
 * assert.equal(line, "a.pdf [#####-----]  50% 5.0 MB/10.0 MB 2.5 MB/s ETA 2s");
 * ```
 */
export function progressLine(input: ProgressLineInput): string {
  const { label, loaded, total, elapsedMs, barWidth = 24 } = input;
  const fraction = total > 0 ? Math.min(1, loaded / total) : 1;
  const filled = Math.floor(fraction * barWidth);
  const bar = "#".repeat(filled) + "-".repeat(barWidth - filled);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const rate = elapsedMs > 0 ? loaded / (elapsedMs / 1000) : 0;
  const eta = loaded >= total ? "0s" : rate > 0 ? formatDuration((total - loaded) / rate) : "--";
  return `${label} [${bar}] ${percent} ${formatBytes(loaded)}/${formatBytes(total)} ${
    formatBytes(rate)
  }/s ETA ${eta}`;
}

/** Options of {@link ProgressBar}. */
export interface ProgressBarOptions {
  /** What is moving, such as the file name. */
  label: string;
  /** Writes to the terminal. */
  write: (text: string) => void;
  /** The terminal's width. @default {80} */
  columns?: number;
  /** The clock. @default {performance.now} */
  now?: () => number;
  /** The least time between two redraws (the last one is always drawn). @default {100} */
  minIntervalMs?: number;
}

/**
 * A progress bar redrawn in place (carriage return, then clear to the end of the line).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { ProgressBar } from "./progress_bar.ts";
 * let screen = "";
 * const bar = new ProgressBar({ label: "a.pdf", write: (text) => (screen += text) });
 * bar.update({ loaded: 0, total: 100 });
 * bar.update({ loaded: 100, total: 100 });
 * bar.finish();
 * assert.match(screen, /100% 100 B\/100 B/);
 * assert.ok(screen.endsWith("\n"));
 * ```
 */
export class ProgressBar {
  #options: Required<ProgressBarOptions>;
  #started: number;
  #lastDraw = -Infinity;
  #last: TransferProgress = { loaded: 0, total: 0 };
  #drawn = false;
  #done = false;
  #completedAt?: number;

  /**
   * Makes a bar; nothing is drawn until the first update.
   *
   * @param options The label and where to draw.
   */
  constructor(options: ProgressBarOptions) {
    this.#options = {
      columns: 80,
      now: () => performance.now(),
      minIntervalMs: 100,
      ...options,
    };
    this.#started = this.#options.now();
  }

  /**
   * Records progress, and redraws unless the last redraw was very recent.
   *
   * @param progress Bytes moved and in all.
   */
  update(progress: TransferProgress): void {
    if (this.#done) return;
    this.#last = { ...progress };
    const now = this.#options.now();
    const complete = progress.loaded >= progress.total;
    if (complete) this.#completedAt ??= now;
    if (!complete && now - this.#lastDraw < this.#options.minIntervalMs) return;
    this.#draw(now);
  }

  /** Draws the final state (the rate as of the last byte) and ends the line. */
  finish(): void {
    if (this.#done) return;
    this.#draw(this.#completedAt ?? this.#options.now());
    this.#options.write("\n");
    this.#done = true;
  }

  /** Ends the line where it stands, so that what follows starts on a new one. */
  abort(): void {
    if (this.#done) return;
    if (this.#drawn) this.#options.write("\n");
    this.#done = true;
  }

  #draw(now: number): void {
    this.#lastDraw = now;
    this.#drawn = true;
    const { label, columns } = this.#options;
    const room = Math.max(8, columns - 64);
    const shown = [...label].length > room ? [...label].slice(0, room - 1).join("") + "…" : label;
    const line = progressLine({ label: shown, ...this.#last, elapsedMs: now - this.#started });
    this.#options.write(`\r${line}\x1b[K`);
  }
}
