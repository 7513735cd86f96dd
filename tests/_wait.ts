/**
 * Waiting for asynchronous effects in tests (a cancelled upload, a closed socket, an abort):
 * retried until they hold, or bounded generously so that "never" fails. Nothing here times
 * anything.
 *
 * @module
 */

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

/**
 * Waits for something that should happen at once (an abort taking effect, say), failing when
 * it has not settled within `boundMs`. The bound is generous on purpose: it catches "never"
 * and "only after a long pause", and it times nothing (a loaded machine stays far inside it).
 *
 * @param promise What should settle.
 * @param boundMs How long to wait before failing.
 * @param what Names it in the failure.
 * @returns How it settled, and after how many milliseconds.
 *
 * @example
 * ```ts ignore
 * controller.abort();
 * const { result } = await settlesWithin(pending, 10_000, "the aborted upload");
 * assert.equal(result.status, "rejected");
 * ```
 */
export async function settlesWithin<T>(
  promise: Promise<T>,
  boundMs: number,
  what: string,
): Promise<{ result: PromiseSettledResult<T>; ms: number }> {
  const started = performance.now();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<"late">((
    resolve,
  ) => (timer = setTimeout(() => resolve("late"), boundMs)));
  const settled = promise.then(
    (value): PromiseSettledResult<T> => ({ status: "fulfilled", value }),
    (reason): PromiseSettledResult<T> => ({ status: "rejected", reason }),
  );
  const result = await Promise.race([settled, late]);
  clearTimeout(timer);
  if (result === "late") throw new Error(`${what} had not taken effect after ${boundMs} ms`);
  return { result, ms: performance.now() - started };
}
