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
 * The S3 hosts of a region that Amazon Connect's pre-signed attachment URLs use: path-style
 * and virtual-hosted-style, IPv4 and dual-stack (and the global endpoint for `us-east-1`).
 *
 * @param region An AWS region such as `eu-west-2`.
 * @returns Host patterns.
 *
 * @example
 * ```ts
 * import { defaultUploadHosts } from "./hosts.ts";
 * defaultUploadHosts("eu-west-2");
 * // ["s3.eu-west-2.amazonaws.com", "*.s3.eu-west-2.amazonaws.com", ...]
 * ```
 */
export function defaultUploadHosts(region: string): string[] {
  const domain = region.startsWith("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
  const hosts = [
    `s3.${region}.${domain}`,
    `*.s3.${region}.${domain}`,
    `s3.dualstack.${region}.${domain}`,
    `*.s3.dualstack.${region}.${domain}`,
  ];
  if (region === "us-east-1") hosts.push(`s3.${domain}`, `*.s3.${domain}`);
  return hosts;
}
