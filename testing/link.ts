/**
 * The shape of a network link, for the local TCP proxy (`proxy.ts`): a bandwidth limit in
 * each direction, shared by every connection that crosses the link, and the round trips a
 * new connection pays before its first request byte can leave (TCP's handshake, then TLS's).
 * The proxy itself adds the link's round-trip time; this adds what a body's size and a new
 * connection cost on top of it.
 *
 * @module
 */

/** How a link limits what crosses it, besides its round-trip time. */
export interface LinkShape {
  /**
   * Megabits per second in each direction, shared by all the connections of the proxy (one
   * link); unlimited when left out.
   */
  bandwidthMbps?: number;
  /**
   * Round trips a new connection pays before its first request byte goes out: 1 for TCP's
   * handshake, plus 1 for a TLS 1.3 handshake (2 for TLS 1.2). Plain HTTP on the proxy then
   * costs what HTTPS would. Kept-alive connections pay it once.
   * @default {0}
   */
  setupRoundTrips?: number;
}

/**
 * A gap shorter than this between the end of one chunk's transmission and the start of the
 * next counts as none: it is the proxy's own timer running late, not the link going idle.
 * Without it, each chunk's lateness would add up over a body; with it, a link that really was
 * idle for less than this may start one chunk up to this early.
 */
const SLACK_MS = 10;

/**
 * Bytes may go out up to this long before their transmission on the link would end: timers
 * that chain from one another are clamped to 4 ms, so a sleep per small chunk would cap the
 * rate at a chunk per 4 ms. With it, small chunks go out at once until this much is queued,
 * and a whole body arrives at most this early.
 */
const AHEAD_MS = 5;

/** One direction of a link: when it finishes sending what it has been given. */
interface Direction {
  free: number;
}

/**
 * A link: both directions' bandwidth, shared by the connections passing through it, and the
 * set-up cost of each new connection.
 *
 * @example
 * ```ts ignore
 * import { Link } from "./link.ts";
 * const link = new Link({ bandwidthMbps: 100, setupRoundTrips: 2 }, () => 80);
 * const shaped = link.connection(client, upstream);
 * // read from shaped.client, write to shaped.upstream, and the other way round
 * ```
 */
export class Link {
  readonly #bitsPerMs: number;
  readonly #setupRoundTrips: number;
  readonly #rttMs: () => number;
  readonly #up: Direction = { free: 0 };
  readonly #down: Direction = { free: 0 };

  /**
   * @param shape The bandwidth and the set-up round trips.
   * @param rttMs The link's round-trip time now (the proxy's, which may change).
   */
  constructor(shape: LinkShape, rttMs: () => number) {
    const mbps = shape.bandwidthMbps ?? Infinity;
    if (!(mbps > 0)) throw new RangeError("bandwidthMbps must be > 0");
    const setup = shape.setupRoundTrips ?? 0;
    if (!Number.isInteger(setup) || setup < 0) {
      throw new RangeError("setupRoundTrips must be an integer ≥ 0");
    }
    this.#bitsPerMs = mbps * 1000;
    this.#setupRoundTrips = setup;
    this.#rttMs = rttMs;
  }

  /**
   * Shapes a new connection through the link: writes to `upstream` wait for the connection's
   * set-up (counted from now) and for their turn on the link's upstream direction; writes to
   * `client`, for theirs on the downstream direction. Everything else passes to the
   * connections themselves.
   *
   * @param client The accepted connection (the client's end).
   * @param upstream The connection to the target.
   * @returns Both ends, shaped.
   */
  connection(client: Deno.Conn, upstream: Deno.Conn): { client: Deno.Conn; upstream: Deno.Conn } {
    // A byte the client sends at once reaches the far end the set-up round trips plus half a
    // round trip after the connection was opened. The proxy delays each chunk by half a round
    // trip from when it was read, before it is written here: so a write waits at least until
    // then, and a byte sent later than the set-up pays the half round trip alone.
    const rtt = this.#rttMs();
    const readyAt = performance.now() + this.#setupRoundTrips * rtt + rtt / 2;
    return {
      client: this.#shaped(client, this.#down, 0),
      upstream: this.#shaped(upstream, this.#up, readyAt),
    };
  }

  #shaped(conn: Deno.Conn, direction: Direction, readyAt: number): Deno.Conn {
    const write = async (bytes: Uint8Array): Promise<number> => {
      await sleepUntil(readyAt);
      if (Number.isFinite(this.#bitsPerMs)) {
        const now = performance.now();
        const start = now <= direction.free + SLACK_MS ? direction.free : now;
        direction.free = start + (bytes.length * 8) / this.#bitsPerMs;
        await sleepUntil(direction.free - AHEAD_MS);
      }
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
      return bytes.length;
    };
    return new Proxy(conn, {
      get(target, property) {
        if (property === "write") return write;
        const value = Reflect.get(target, property, target);
        return typeof value === "function" ? value.bind(target) : value;
      },
    });
  }
}

async function sleepUntil(time: number): Promise<void> {
  const wait = time - performance.now();
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}
