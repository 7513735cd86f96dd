/**
 * The upload worker's configuration, read from a plain record of strings: Worker bindings
 * (`vars`) in workerd, `Deno.env.toObject()` under Deno.
 *
 * @module
 */

import { isAmazonConnectEndpoint, isRegion, participantEndpoint } from "../src/_core/endpoint.ts";
import { AttachmentError } from "../src/_core/errors.ts";
import { CONNECT_MAX_ATTACHMENT_BYTES, mimeEssence, policyProblems } from "../src/_core/rules.ts";
import { defaultUploadHosts, parseHostPattern } from "./hosts.ts";
import { parseReliabilityConfig, type ReliabilityConfig } from "./reliability_config.ts";

/** The settings the worker runs with. */
export interface WorkerConfig {
  /** The Participant Service base URL every call goes to. */
  participantEndpoint: string;
  /** The AWS region, where one was given. */
  region?: string;
  /** The largest upload accepted, in bytes. */
  maxAttachmentBytes: number;
  /**
   * The MIME types and extensions accepted (types as their essence, extensions lower-case
   * without a dot); `undefined`: any well-formed ones, the instance decides.
   */
  allowedTypes?: readonly string[];
  /** Origins allowed to call from a browser; `["*"]` allows any; empty turns CORS off. */
  corsOrigins: readonly string[];
  /**
   * Hosts the pre-signed S3 URLs may point at (`host`, `host:port`, `*.suffix`, or with an
   * `http://` scheme for plain-HTTP hosts such as a local S3). No other host is ever sent bytes
   * or asked for them.
   */
  uploadHosts: readonly string[];
  /** Whether the development page is served at `/` (`DEV_PAGE=true`). Never in production. */
  devPage: boolean;
  /** Deadlines of upstream calls and the per-token limit. */
  reliability: ReliabilityConfig;
}

/** Environment variables (or Worker `vars`) the worker reads. */
export interface WorkerEnv {
  /** The Participant Service base URL; wins over `AWS_REGION`. */
  PARTICIPANT_ENDPOINT?: string;
  /** The AWS region of the Amazon Connect instance, such as `us-east-1`. */
  AWS_REGION?: string;
  /**
   * The largest upload in bytes: at most 104857600 against Amazon Connect, any against another
   * Participant Service (the local stack). @default {104857600}
   */
  MAX_ATTACHMENT_BYTES?: string;
  /**
   * Comma-separated MIME types or extensions (`pdf,zip,image/png`) refused early when not
   * listed. @default {none: the instance decides}
   */
  ALLOWED_TYPES?: string;
  /** Comma-separated origins allowed to call from browsers, or `*`. @default {none} */
  CORS_ORIGINS?: string;
  /**
   * Comma-separated upload host patterns. @default {every S3 endpoint form of the region's
   * partition (see `defaultUploadHosts`)}
   */
  UPLOAD_HOSTS?: string;
  /** `true` serves the development page at `/`, for the local stack only. @default {false} */
  DEV_PAGE?: string;
  /** The most one upload to S3 may take, in ms. @default {120000} */
  UPLOAD_TIMEOUT_MS?: string;
  /** The most one download may take, to its last byte, in ms. @default {120000} */
  DOWNLOAD_TIMEOUT_MS?: string;
  /** How long one Participant Service call may wait for its answer, in ms. @default {10000} */
  SERVICE_TIMEOUT_MS?: string;
  /** The budget of one Participant Service call across its retries, in ms. @default {30000} */
  SERVICE_DEADLINE_MS?: string;
  /** Tries per Participant Service call. @default {3} */
  SERVICE_MAX_ATTEMPTS?: string;
  /** Uploads and downloads one token may run at once (per instance); 0: no limit. @default {4} */
  MAX_REQUESTS_PER_TOKEN?: string;
  /** Anything else in the environment is ignored. */
  [other: string]: unknown;
}

/**
 * A configuration that cannot work (code `misconfigured`); `problems` lists every reason at
 * once.
 *
 * @example
 * ```ts
 * import { ConfigError, parseConfig } from "./config.ts";
 * try {
 *   parseConfig({});
 * } catch (error) {
 *   if (error instanceof ConfigError) console.error(error.problems.join("\n"));
 * }
 * ```
 */
export class ConfigError extends AttachmentError {
  /** One line per problem. */
  readonly problems: readonly string[];

  /**
   * @param problems One line per problem.
   */
  constructor(problems: string[]) {
    super("misconfigured", "validate", `the worker is misconfigured: ${problems.join("; ")}`);
    this.name = "ConfigError";
    this.problems = problems;
  }
}

/**
 * Reads the worker's configuration from an environment record, checking every value.
 *
 * @param env Worker bindings or `Deno.env.toObject()`; values other than strings are ignored.
 * @returns The configuration.
 * @throws {ConfigError} Listing every problem, when any value is missing or malformed.
 *
 * @example
 * ```ts
 * import { parseConfig } from "./config.ts";
 * const config = parseConfig({ AWS_REGION: "eu-west-2", CORS_ORIGINS: "https://example.com" });
 * console.log(config.participantEndpoint); // https://participant.connect.eu-west-2.amazonaws.com
 * console.log(config.uploadHosts.includes("*.s3.eu-west-2.amazonaws.com")); // true
 * ```
 */
export function parseConfig(env: WorkerEnv): WorkerConfig {
  const read = (key: string): string | undefined => {
    const value = env[key];
    return typeof value === "string" && value.trim() !== "" ? value.trim() : undefined;
  };
  const problems: string[] = [];

  const region = read("AWS_REGION");
  const endpoint = read("PARTICIPANT_ENDPOINT");
  let resolved = "";
  if (region === undefined && endpoint === undefined) {
    problems.push("set AWS_REGION (such as us-east-1) or PARTICIPANT_ENDPOINT");
  } else {
    try {
      resolved = participantEndpoint({ region, endpoint });
    } catch (error) {
      problems.push(
        `${endpoint !== undefined ? "PARTICIPANT_ENDPOINT" : "AWS_REGION"}: ${messageOf(error)}`,
      );
    }
  }

  // Amazon Connect's bounds hold where the service is AWS's; the local stack sets its own.
  const amazonConnect = resolved === "" || isAmazonConnectEndpoint(resolved);
  const max = read("MAX_ATTACHMENT_BYTES");
  const maxAttachmentBytes = max === undefined
    ? CONNECT_MAX_ATTACHMENT_BYTES
    : /^\d{1,16}$/.test(max)
    ? Number(max)
    : NaN;
  const types = read("ALLOWED_TYPES");
  const entries = list(types ?? "").map((entry) =>
    entry.includes("/") ? mimeEssence(entry) : entry.replace(/^\./, "").toLowerCase()
  );
  const allowedTypes = entries.length > 0 ? entries : undefined;
  const policy = { maxBytes: maxAttachmentBytes, allowedTypes };
  for (const { member, message } of policyProblems(policy, amazonConnect)) {
    problems.push(
      member === "maxBytes"
        ? `MAX_ATTACHMENT_BYTES ${message.replace(/got NaN$/, `got ${max}`)}`
        : `ALLOWED_TYPES: ${message}`,
    );
  }

  const corsOrigins = list(read("CORS_ORIGINS") ?? "");
  for (const origin of corsOrigins) {
    if (origin === "*") continue;
    let url: URL | undefined;
    try {
      url = new URL(origin);
    } catch { /* reported below */ }
    if (!url || url.origin !== origin.replace(/\/$/, "")) {
      problems.push(`CORS_ORIGINS: ${origin} is not an origin such as https://example.com`);
    }
  }

  let uploadHosts: string[] = [];
  const hosts = read("UPLOAD_HOSTS");
  if (hosts !== undefined) {
    uploadHosts = list(hosts);
    for (const host of uploadHosts) {
      const problem = parseHostPattern(host);
      if (typeof problem === "string") problems.push(`UPLOAD_HOSTS: ${problem}`);
    }
  } else if (region !== undefined) {
    if (isRegion(region)) uploadHosts = defaultUploadHosts(region);
    else if (endpoint !== undefined) problems.push(`AWS_REGION: not an AWS region: ${region}`);
  } else {
    problems.push("set UPLOAD_HOSTS (the S3 hosts uploads may go to) or AWS_REGION");
  }

  const devPage = read("DEV_PAGE")?.toLowerCase() ?? "false";
  if (devPage !== "true" && devPage !== "false") {
    problems.push(`DEV_PAGE must be true or false, got ${read("DEV_PAGE")}`);
  }
  const reliability = parseReliabilityConfig(env, problems);

  if (problems.length > 0) throw new ConfigError(problems);
  return {
    participantEndpoint: resolved,
    region,
    maxAttachmentBytes,
    allowedTypes,
    corsOrigins: corsOrigins.map((origin) => origin.replace(/\/$/, "")),
    uploadHosts,
    devPage: devPage === "true",
    reliability,
  };
}

function list(value: string): string[] {
  return value.split(",").map((entry) => entry.trim()).filter((entry) => entry !== "");
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
