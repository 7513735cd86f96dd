/**
 * Shared helpers for the test suite: test data and digests.
 *
 * @module
 */

/** `size` bytes of pseudo-random data, deterministic for a seed. */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** The hex SHA-256 of some bytes. */
export async function sha256(bytes: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Counts a process's open sockets, from `/proc` (Linux).
 *
 * @param pid The process id.
 * @returns The number of open socket descriptors.
 */
export function openSockets(pid: number): number {
  let sockets = 0;
  for (const entry of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      if (Deno.readLinkSync(`/proc/${pid}/fd/${entry.name}`).startsWith("socket:")) sockets++;
    } catch { /* closed meanwhile */ }
  }
  return sockets;
}

/**
 * Waits until `check` passes, trying every 50 ms for up to `timeoutMs`; throws its last
 * failure otherwise. For settling asynchronous effects (a cancelled upload, a closed socket),
 * never for timing assertions.
 *
 * @param check Throws (or returns false) while the condition does not hold.
 * @param timeoutMs How long to keep trying.
 */
export async function eventually(
  check: () => unknown | Promise<unknown>,
  timeoutMs = 10_000,
): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (true) {
    let failure: unknown;
    try {
      if ((await check()) !== false) return;
      failure = new Error("the condition did not hold in time");
    } catch (error) {
      failure = error;
    }
    if (Date.now() > until) throw failure;
    await new Promise((r) => setTimeout(r, 50));
  }
}
