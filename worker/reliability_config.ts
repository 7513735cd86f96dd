/**
 * The worker's reliability settings: deadlines for upstream calls and the per-token limit,
 * read from the same environment record as the rest of its configuration.
 *
 * @module
 */

/** Deadlines and limits. */
export interface ReliabilityConfig {
  /** The most one `PUT` to S3 may take, in milliseconds (its URL's expiry also ends it). */
  uploadTimeoutMs: number;
  /** The most one download may take, from the request to the body's last byte, in milliseconds. */
  downloadTimeoutMs: number;
  /** How long one Participant Service call may wait for its answer, in milliseconds. */
  serviceAttemptTimeoutMs: number;
  /** The budget of one Participant Service call across its retries, in milliseconds. */
  serviceDeadlineMs: number;
  /** Tries per Participant Service call, the first included. */
  serviceMaxAttempts: number;
  /** Uploads and downloads one token may have in flight at once; 0: no limit. */
  maxRequestsPerToken: number;
}

/** Each setting's variable, its least value and its default. */
const VARIABLES: Record<
  keyof ReliabilityConfig,
  [variable: string, min: number, fallback: number]
> = {
  uploadTimeoutMs: ["UPLOAD_TIMEOUT_MS", 1, 120_000],
  downloadTimeoutMs: ["DOWNLOAD_TIMEOUT_MS", 1, 120_000],
  serviceAttemptTimeoutMs: ["SERVICE_TIMEOUT_MS", 1, 10_000],
  serviceDeadlineMs: ["SERVICE_DEADLINE_MS", 1, 30_000],
  serviceMaxAttempts: ["SERVICE_MAX_ATTEMPTS", 1, 3],
  maxRequestsPerToken: ["MAX_REQUESTS_PER_TOKEN", 0, 4],
};

/**
 * Reads `UPLOAD_TIMEOUT_MS`, `DOWNLOAD_TIMEOUT_MS`, `SERVICE_TIMEOUT_MS`, `SERVICE_DEADLINE_MS`,
 * `SERVICE_MAX_ATTEMPTS` and `MAX_REQUESTS_PER_TOKEN` (whole numbers; absent or empty: the
 * default).
 *
 * @param env Worker bindings or `Deno.env.toObject()`.
 * @param problems Where each malformed value is reported.
 * @returns The settings.
 *
 * @example
 * ```ts
 * import { parseReliabilityConfig } from "./reliability_config.ts";
 * const problems: string[] = [];
 * parseReliabilityConfig({ MAX_REQUESTS_PER_TOKEN: "2" }, problems).maxRequestsPerToken; // 2
 * ```
 */
export function parseReliabilityConfig(
  env: Record<string, unknown>,
  problems: string[],
): ReliabilityConfig {
  const config = {} as ReliabilityConfig;
  for (const [field, [variable, min, fallback]] of Object.entries(VARIABLES)) {
    const raw = env[variable];
    config[field as keyof ReliabilityConfig] = fallback;
    if (typeof raw !== "string" || raw.trim() === "") continue;
    const value = Number(raw.trim());
    if (!/^\d+$/.test(raw.trim()) || !Number.isSafeInteger(value) || value < min) {
      problems.push(`${variable} must be a whole number ≥ ${min}, got ${raw}`);
      continue;
    }
    config[field as keyof ReliabilityConfig] = value;
  }
  return config;
}
