/**
 * The allow list of hosts that pre-signed S3 URLs may point at. The worker sends bytes to (and
 * reads them from) no other host, whatever the Participant Service answers.
 *
 * @module
 */

/** A parsed upload host pattern. */
export interface HostPattern {
  /** `https`, or `http` where the pattern says so (or the host is a loopback address). */
  schemes: readonly ("https:" | "http:")[];
  /** The lower-case host name; a leading `*.` matches any subdomain (not the name itself). */
  host: string;
  /** The port, or `""` for the scheme's default port. */
  port: string;
}

const LOOPBACK = /^(127(\.\d{1,3}){3}|localhost|\[::1\])$/;
const HOST = /^(\*\.)?([a-z0-9-]+\.)*[a-z0-9-]+$|^\d{1,3}(\.\d{1,3}){3}$|^\[[0-9a-f:.]+\]$/;

/**
 * Parses an upload host pattern: `host`, `host:port`, `*.suffix`, any of them with an
 * `http://` or `https://` scheme in front. Without a scheme only `https` is allowed, except for
 * loopback hosts (`127.0.0.1`, `localhost`, `[::1]`), where plain `http` never leaves the
 * machine.
 *
 * @param pattern The pattern.
 * @returns The parsed pattern, or a message saying what is wrong with it.
 *
 * @example
 * ```ts
 * import { parseHostPattern } from "./hosts.ts";
 * parseHostPattern("127.0.0.1:4568"); // { schemes: ["https:", "http:"], host: "127.0.0.1", port: "4568" }
 * parseHostPattern("*.s3.us-east-1.amazonaws.com"); // https only, any port-less subdomain
 * ```
 */
export function parseHostPattern(pattern: string): HostPattern | string {
  const match = /^(?:(https?):\/\/)?([^/:]+|\[[^\]]+\])(?::(\d{1,5}))?\/?$/i.exec(pattern.trim());
  const host = match?.[2].toLowerCase();
  if (!match || !host || !HOST.test(host)) {
    return `${pattern} is not a host pattern such as *.s3.us-east-1.amazonaws.com or ` +
      `127.0.0.1:4568`;
  }
  const scheme = match[1]?.toLowerCase();
  const schemes: ("https:" | "http:")[] = scheme === "http"
    ? ["http:"]
    : scheme === "https" || !LOOPBACK.test(host)
    ? ["https:"]
    : ["https:", "http:"];
  return { schemes, host, port: match[3] ?? "" };
}

/**
 * Tells whether a URL's scheme, host and port match one of the patterns.
 *
 * @param url The pre-signed URL.
 * @param patterns Patterns as {@link parseHostPattern} takes them; malformed ones match nothing.
 * @returns `true` when the URL may be contacted.
 *
 * @example
 * ```ts
 * import { isAllowedHost } from "./hosts.ts";
 * isAllowedHost(new URL("https://b.s3.us-east-1.amazonaws.com/k"), ["*.s3.us-east-1.amazonaws.com"]); // true
 * isAllowedHost(new URL("https://evil.example/k"), ["*.s3.us-east-1.amazonaws.com"]); // false
 * ```
 */
export function isAllowedHost(url: URL, patterns: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  return patterns.some((raw) => {
    const pattern = parseHostPattern(raw);
    if (typeof pattern === "string") return false;
    if (!pattern.schemes.includes(url.protocol as "https:")) return false;
    if (pattern.port !== url.port) return false;
    if (pattern.host.startsWith("*.")) {
      const suffix = pattern.host.slice(1);
      return hostname.endsWith(suffix) && hostname.length > suffix.length;
    }
    return hostname === pattern.host;
  });
}

/**
 * The S3 endpoints that a pre-signed URL for a bucket in `region` may name: every form AWS
 * documents for that region's partition, each path-style (`s3.eu-west-2.amazonaws.com/bucket`)
 * and virtual-hosted-style (`bucket.s3.eu-west-2.amazonaws.com`, dotted bucket names included),
 * https only:
 *
 * - every partition: the regional endpoint `s3.<region>` and its dual-stack form
 *   `s3.dualstack.<region>`;
 * - commercial (`amazonaws.com`) and GovCloud (`us-gov-*`): the legacy dash form
 *   `s3-<region>`, FIPS `s3-fips.<region>` and `s3-fips.dualstack.<region>`;
 * - GovCloud: the legacy FIPS form `s3-fips-<region>`;
 * - commercial only: the legacy global endpoint `s3.amazonaws.com` (which serves buckets of
 *   every commercial region), Transfer Acceleration `s3-accelerate` and
 *   `s3-accelerate.dualstack` (virtual-hosted only: they take no path-style requests), and,
 *   for `us-east-1`, the legacy `s3-external-1`;
 * - China (`cn-*`, `amazonaws.com.cn`): no FIPS, no acceleration, no dash form, no global
 *   endpoint.
 *
 * Nothing else: no other region, partition or domain, no website or access-point endpoint.
 *
 * @param region An AWS region such as `eu-west-2` (checked by the caller).
 * @returns Host patterns, as {@link isAllowedHost} takes them.
 *
 * @example
 * ```ts
 * import { defaultUploadHosts } from "./hosts.ts";
 * defaultUploadHosts("eu-west-2");
 * // ["s3.eu-west-2.amazonaws.com", "*.s3.eu-west-2.amazonaws.com", ...]
 * ```
 */
export function defaultUploadHosts(region: string): string[] {
  const china = region.startsWith("cn-");
  const govCloud = region.startsWith("us-gov-");
  const commercial = !china && !govCloud;
  const domain = china ? "amazonaws.com.cn" : "amazonaws.com";
  const endpoints = [`s3.${region}`, `s3.dualstack.${region}`];
  if (!china) {
    endpoints.push(`s3-${region}`, `s3-fips.${region}`, `s3-fips.dualstack.${region}`);
  }
  if (govCloud) endpoints.push(`s3-fips-${region}`);
  if (commercial) endpoints.push("s3");
  if (region === "us-east-1") endpoints.push("s3-external-1");
  const hosts = endpoints.flatMap((name) => [`${name}.${domain}`, `*.${name}.${domain}`]);
  if (commercial) hosts.push(`*.s3-accelerate.${domain}`, `*.s3-accelerate.dualstack.${domain}`);
  return hosts;
}
