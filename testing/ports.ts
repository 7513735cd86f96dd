/**
 * Ports for the servers the project starts: a free one picked on request (picked again when
 * another process takes it first), and a port in use an error, never a silent fallback.
 *
 * @module
 */

/**
 * Throws when `hostname:port` cannot be bound, with a message that names the port and how to
 * choose another. Port `0` always passes.
 *
 * @param hostname The address to bind.
 * @param port The port to check.
 * @param what What wants the port, for the message (such as `local S3`).
 * @param variable The environment variable that overrides it.
 *
 * @example
 * ```ts ignore
 * import { assertPortFree } from "./ports.ts";
 * assertPortFree("127.0.0.1", 8788, "Participant Service", "PARTICIPANT_PORT");
 * ```
 */
export function assertPortFree(hostname: string, port: number, what: string, variable: string) {
  if (port === 0) return;
  try {
    Deno.listen({ hostname, port }).close();
  } catch (error) {
    if (error instanceof Deno.errors.AddrInUse) {
      throw new Error(
        `${what}: ${hostname}:${port} is already in use; stop what holds it or set ${variable}`,
      );
    }
    throw error;
  }
}

/**
 * Finds a free port on `hostname`. It is drawn from below the system's ephemeral range (on
 * Linux, `/proc/sys/net/ipv4/ip_local_port_range`), so that a port picked now and bound a
 * moment later by another process is not taken meanwhile by some outgoing connection; where
 * that range is unknown, the system picks (port 0).
 *
 * @param hostname The address to bind.
 * @returns A port that was free a moment ago.
 *
 * @example
 * ```ts ignore
 * import { freePort } from "./ports.ts";
 * const port = freePort();
 * ```
 */
export function freePort(hostname = "127.0.0.1"): number {
  const low = ephemeralLow();
  if (low > FIRST_PICKED + 1000) {
    for (let attempt = 0; attempt < 50; attempt++) {
      const port = FIRST_PICKED + Math.floor(Math.random() * (low - FIRST_PICKED));
      try {
        Deno.listen({ hostname, port }).close();
        return port;
      } catch (error) {
        if (!(error instanceof Deno.errors.AddrInUse)) throw error;
      }
    }
  }
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}

/**
 * Whether a server's failure to start reads as a port already taken, so that a caller who
 * let {@link freePort} pick may pick again.
 *
 * @param text The error message or the server's last output.
 * @returns `true` when it says the address is in use.
 *
 * @example
 * ```ts ignore
 * import { saysAddressInUse } from "./ports.ts";
 * saysAddressInUse("bind(...): Address already in use"); // true
 * ```
 */
export function saysAddressInUse(text: string): boolean {
  return /address already in use|EADDRINUSE|AddrInUse/i.test(text);
}

/**
 * Starts a server on a port picked with {@link freePort}, and starts it again (three tries in
 * all) when the port was taken between the pick and the server's bind. A port that was given
 * is never retried: one in use is an error.
 *
 * @param picked Whether the port is picked (not given).
 * @param start Picks the port (when it is picked) and starts the server.
 * @returns What `start` returns.
 *
 * @example
 * ```ts ignore
 * import { freePort, startOnPickedPort } from "./ports.ts";
 * const server = await startOnPickedPort(true, () => startServer(freePort()));
 * ```
 */
export async function startOnPickedPort<T>(picked: boolean, start: () => Promise<T>): Promise<T> {
  for (let attempt = 1;; attempt++) {
    try {
      return await start();
    } catch (error) {
      if (!picked || attempt === 3 || !saysAddressInUse(String(error))) throw error;
    }
  }
}

/** The lowest port `freePort` draws from; well above the ports services usually take. */
const FIRST_PICKED = 20_000;

function ephemeralLow(): number {
  try {
    const range = Deno.readTextFileSync("/proc/sys/net/ipv4/ip_local_port_range");
    const low = Number(range.trim().split(/\s+/)[0]);
    return Number.isInteger(low) ? low : 0;
  } catch {
    return 0;
  }
}
