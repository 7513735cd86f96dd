/**
 * Summaries of repeated measurements.
 *
 * @module
 */

/** Minimum, median and maximum of some samples. */
export interface Spread {
  min: number;
  median: number;
  max: number;
  /** How many samples. */
  n: number;
}

/**
 * The value below which `p` percent of the samples fall (nearest rank).
 *
 * @param samples The samples (not modified).
 * @param p The percentile, 0–100.
 * @returns The percentile, or NaN for no samples.
 *
 * @example
 * ```ts
 * import { percentile } from "./stats.ts";
 * percentile([1, 2, 3, 4], 50); // 2
 * ```
 */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.max(1, Math.ceil((p / 100) * sorted.length));
  return sorted[rank - 1];
}

/**
 * The median (mean of the two middle values for an even count).
 *
 * @param samples The samples.
 * @returns The median, or NaN for no samples.
 *
 * @example
 * ```ts
 * import { median } from "./stats.ts";
 * median([3, 1, 2, 10]); // 2.5
 * ```
 */
export function median(samples: readonly number[]): number {
  if (samples.length === 0) return NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * Minimum, median and maximum.
 *
 * @param samples The samples.
 * @returns The spread.
 *
 * @example
 * ```ts
 * import { spread } from "./stats.ts";
 * spread([5, 1, 3]); // { min: 1, median: 3, max: 5, n: 3 }
 * ```
 */
export function spread(samples: readonly number[]): Spread {
  return {
    min: samples.length ? Math.min(...samples) : NaN,
    median: median(samples),
    max: samples.length ? Math.max(...samples) : NaN,
    n: samples.length,
  };
}

/** One mebibyte. */
export const MiB = 1024 * 1024;

/**
 * Formats a byte count in MiB with one decimal.
 *
 * @param bytes The count.
 * @returns Such as `12.3 MiB`.
 */
export function mib(bytes: number): string {
  return `${(bytes / MiB).toFixed(1)} MiB`;
}
