/**
 * The control for the concurrency figure's memory row: a worker that takes the same requests
 * as the upload worker (a `PUT` with a body) and only reads the body to its end, with no
 * upstream call. Run in the same workerd under the same load, its memory shows what workerd
 * itself keeps per connection and request, apart from the upload worker's code.
 *
 * @module
 */

export default {
  /**
   * Reads and discards the body; answers 201 with the byte count.
   *
   * @param {Request} request The upload.
   * @returns {Promise<Response>} `{"bytes": n}`.
   */
  async fetch(request) {
    let bytes = 0;
    if (request.body) {
      const reader = request.body.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
      }
    }
    return Response.json({ bytes }, { status: 201 });
  },
};
