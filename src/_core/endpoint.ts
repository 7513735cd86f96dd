/**
 * Resolves where the Participant Service lives.
 *
 * @module
 */

/**
 * Where a Participant Service client sends its calls.
 *
 * @example
 * ```ts
 * import type { EndpointOptions } from "./endpoint.ts";
 * const local: EndpointOptions = { endpoint: "http://127.0.0.1:8788" };
 * const aws: EndpointOptions = { region: "us-east-1" };
 * ```
 */
export interface EndpointOptions {
  /**
   * The AWS region of the Amazon Connect instance, such as `us-east-1`. Ignored when
   * `endpoint` is given.
   */
  region?: string;
  /**
   * Any Participant Service base URL, such as the local service's `http://127.0.0.1:8788`.
   * Takes precedence over `region`.
   */
  endpoint?: string | URL;
}

const REGION = /^[a-z]{2}(-[a-z0-9]+)+-\d+$/;

/**
 * Tells whether a string is shaped like an AWS region code (`us-east-1`, `us-gov-west-1`,
 * `cn-northwest-1`).
 *
 * @param value The string.
 * @returns `true` for a region-shaped code.
 *
 * @example
 * ```ts
 * import { isRegion } from "./endpoint.ts";
 * isRegion("eu-west-2"); // true
 * isRegion("eu-west-2.evil.example"); // false
 * ```
 */
export function isRegion(value: string): boolean {
  return REGION.test(value);
}

/**
 * Returns the base URL of the Participant Service for an endpoint or a region.
 *
 * @param options The region or the endpoint.
 * @returns The base URL, without a trailing slash.
 * @throws {TypeError} When neither is given, the region is malformed or the endpoint is not
 * an http(s) URL.
 *
 * @example Resolve a region
 * ```ts
 * import { participantEndpoint } from "./endpoint.ts";
 * console.log(participantEndpoint({ region: "eu-west-2" }));
 * // https://participant.connect.eu-west-2.amazonaws.com
 * ```
 */
export function participantEndpoint(options: EndpointOptions): string {
  if (options.endpoint !== undefined) {
    const url = new URL(options.endpoint);
    if (url.protocol !== "https:" && url.protocol !== "http:") {
      throw new TypeError(`endpoint must be an http(s) URL, got ${url.protocol}`);
    }
    return url.href.replace(/\/+$/, "");
  }
  if (options.region === undefined) {
    throw new TypeError("give a region (such as us-east-1) or an endpoint");
  }
  if (!isRegion(options.region)) {
    throw new TypeError(`not an AWS region: ${JSON.stringify(options.region)}`);
  }
  return `https://participant.connect.${options.region}.amazonaws.com`;
}

/**
 * Tells whether a Participant Service base URL is Amazon Connect's own: a host under
 * `amazonaws.com` or `amazonaws.com.cn` (what a region resolves to). Amazon Connect's bounds
 * (such as 100 MB per attachment) hold there; another service (the local stack, a stand-in)
 * sets its own.
 *
 * @param baseUrl The service's base URL.
 * @returns `true` for an AWS endpoint.
 *
 * @example
 * ```ts
 * import { isAmazonConnectEndpoint } from "./endpoint.ts";
 * isAmazonConnectEndpoint("https://participant.connect.eu-west-2.amazonaws.com"); // true
 * isAmazonConnectEndpoint("http://127.0.0.1:8788"); // false
 * ```
 */
export function isAmazonConnectEndpoint(baseUrl: string | URL): boolean {
  const host = new URL(baseUrl).hostname.toLowerCase().replace(/\.$/, "");
  return /(^|\.)amazonaws\.com(\.cn)?$/.test(host);
}
