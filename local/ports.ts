/**
 * Port checks for the local stack: a port in use is an error, never a silent fallback.
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
 * Finds a free port on `hostname` by binding port 0.
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
  const listener = Deno.listen({ hostname, port: 0 });
  const { port } = listener.addr as Deno.NetAddr;
  listener.close();
  return port;
}
