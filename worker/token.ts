/**
 * The ConnectionToken of a request: the one parser that the app and the per-token limit both
 * use (so that every request that authenticates is counted), its shape, and the memory of
 * tokens the Participant Service has accepted, which caps the retries of calls made with
 * tokens it never accepted.
 *
 * @module
 */

/** The longest token the Participant Service takes (its model: 1–1000 characters). */
export const TOKEN_MAX_LENGTH = 1000;

/**
 * A token's shape: 1–1000 visible ASCII characters. The service's model sets only the length;
 * the charset is what an HTTP header can carry without encoding, and every token the service
 * issues (base64 or base64url text) fits it. Spaces, control characters and anything beyond
 * ASCII never make a token.
 */
const TOKEN_SHAPE = /^[\x21-\x7e]{1,1000}$/;

/** `Authorization: Bearer <token>`: the scheme in any case, then spaces or tabs (RFC 9110). */
const AUTHORIZATION = /^bearer[ \t]+([^ \t]*)$/i;

/** What {@link readToken} found. */
export type TokenReading =
  /** A token of the right shape. */
  | { token: string; problem?: undefined }
  /** No token, or one that cannot be a ConnectionToken: why, for the 401's detail. */
  | { token?: undefined; problem: string };

/**
 * Reads the ConnectionToken from `X-Amz-Bearer`, or else from `Authorization: Bearer <token>`,
 * and checks its shape. Nothing else in the worker reads tokens.
 *
 * @param headers The request headers.
 * @returns The token, or why there is none.
 *
 * @example
 * ```ts
 * import { readToken } from "./token.ts";
 * readToken(new Headers({ authorization: "Bearer abc" })).token; // "abc"
 * readToken(new Headers({ "x-amz-bearer": "a b" })).problem; // "the ConnectionToken ... "
 * ```
 */
export function readToken(headers: Headers): TokenReading {
  const direct = headers.get("x-amz-bearer");
  const authorization = headers.get("authorization");
  let token: string;
  if (direct !== null && direct !== "") {
    token = direct;
  } else if (authorization !== null && authorization !== "") {
    const match = AUTHORIZATION.exec(authorization);
    if (!match) {
      return { problem: "Authorization must be Bearer <token>" };
    }
    token = match[1];
  } else {
    return { problem: "no ConnectionToken was sent" };
  }
  if (!TOKEN_SHAPE.test(token)) {
    return { problem: "the ConnectionToken is malformed (1 to 1000 visible ASCII characters)" };
  }
  return { token };
}

/**
 * The token of a request, or `undefined` when {@link readToken} finds none usable (such a
 * request is refused with 401 before any upstream call).
 *
 * @param headers The request headers.
 * @returns The token.
 *
 * @example
 * ```ts
 * import { bearerToken } from "./token.ts";
 * bearerToken(new Headers({ "x-amz-bearer": "abc" })); // "abc"
 * ```
 */
export function bearerToken(headers: Headers): string | undefined {
  return readToken(headers).token;
}

/** Options of {@link TokenTrust}. */
export interface TokenTrustOptions {
  /** Accepted tokens remembered at most; the least recently seen go first. @default {10000} */
  maxEntries?: number;
  /** Retries that calls with not-yet-accepted tokens may make in a burst. @default {10} */
  burst?: number;
  /** How many of those retries come back per second. @default {1} */
  refillPerSecond?: number;
  /** The clock, for tests. @default {Date.now} */
  now?: () => number;
}

/**
 * Which tokens the Participant Service has accepted (answered a call with 2xx), and a shared
 * budget for the retries of calls made with any other token. A caller with made-up tokens
 * then costs one service call per request, not one per try: retries of throttled or failed
 * calls with unproven tokens draw from one small budget (a token bucket), while a token the
 * service accepted is retried as ever. Tokens are kept as SHA-256 digests, never as such.
 *
 * @example
 * ```ts ignore
 * import { createParticipantClient } from "../src/_core/client.ts";
 * import { TokenTrust } from "./token.ts";
 * const trust = new TokenTrust();
 * const client = createParticipantClient({
 *   endpoint, fetch: trust.observe(fetch), retry: { mayRetry: trust.mayRetry },
 * });
 * ```
 */
export class TokenTrust {
  readonly #accepted = new Map<string, true>();
  readonly #maxEntries: number;
  readonly #burst: number;
  readonly #refillPerMs: number;
  readonly #now: () => number;
  #budget: number;
  #filledAt: number;

  /** @param options The memory's size and the retry budget. */
  constructor(options: TokenTrustOptions = {}) {
    this.#maxEntries = options.maxEntries ?? 10_000;
    this.#burst = options.burst ?? 10;
    this.#refillPerMs = (options.refillPerSecond ?? 1) / 1000;
    this.#now = options.now ?? Date.now;
    this.#budget = this.#burst;
    this.#filledAt = this.#now();
  }

  /**
   * Wraps the `fetch` of Participant Service calls: a 2xx answer marks the call's token as
   * accepted.
   *
   * @param fetchFn The `fetch` to wrap.
   * @returns The wrapping `fetch`.
   */
  observe(fetchFn: typeof fetch): typeof fetch {
    return async (input, init) => {
      const response = await fetchFn(input, init);
      if (response.ok) {
        const headers = init?.headers ?? (input instanceof Request ? input.headers : undefined);
        const token = new Headers(headers).get("x-amz-bearer");
        if (token) await this.#accept(token);
      }
      return response;
    };
  }

  /**
   * Tells whether a failed call may be tried again: always for an accepted token, otherwise
   * while the shared budget lasts (each retry spends one).
   *
   * @param request The call.
   * @returns Whether to retry.
   */
  mayRetry = async (request: Request): Promise<boolean> => {
    const token = request.headers.get("x-amz-bearer");
    if (token && this.#accepted.has(await tokenDigest(token))) return true;
    const now = this.#now();
    this.#budget = Math.min(this.#burst, this.#budget + (now - this.#filledAt) * this.#refillPerMs);
    this.#filledAt = now;
    if (this.#budget < 1) return false;
    this.#budget -= 1;
    return true;
  };

  async #accept(token: string): Promise<void> {
    const id = await tokenDigest(token);
    this.#accepted.delete(id);
    this.#accepted.set(id, true);
    for (const oldest of this.#accepted.keys()) {
      if (this.#accepted.size <= this.#maxEntries) break;
      this.#accepted.delete(oldest);
    }
  }
}

/**
 * The SHA-256 of a text that holds a token, in hex: what the worker keeps in memory instead
 * of a token.
 *
 * @param text The token, or a text made with it.
 * @returns 64 hex digits.
 *
 * @example
 * ```ts
 * import { tokenDigest } from "./token.ts";
 * console.log((await tokenDigest("abc")).length); // 64
 * ```
 */
export async function tokenDigest(text: string): Promise<string> {
  const hash = new Uint8Array(
    await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)),
  );
  return Array.from(hash, (b) => b.toString(16).padStart(2, "0")).join("");
}
