/**
 * The calibration for the cost figure: a worker that spins its CPU for a fixed amount of work
 * (`?n=` iterations) and answers. Its CPU profile and its process's CPU time, side by side,
 * show how much of a known busy stretch the profile catches on this machine.
 *
 * @module
 */

export default {
  /**
   * Runs the loop; answers its result, so that the work cannot be skipped.
   *
   * @param {Request} request `GET /?n=1000000`.
   * @returns {Response} The loop's result.
   */
  fetch(request) {
    const n = Number(new URL(request.url).searchParams.get("n") ?? 0);
    let x = 0;
    for (let i = 0; i < n; i++) x += Math.sqrt(i ^ (x & 1023));
    return new Response(String(x));
  },
};
