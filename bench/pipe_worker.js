/**
 * The control for the curl figure: the least any worker can do with an upload. It passes the
 * request body straight on to a pre-signed URL made beforehand (`?to=`, with the URL's headers
 * sent as `x-s3-<name>`), as `fetch(url, { body: request.body })`, and answers 201 when S3
 * answered 200. No StartAttachmentUpload, no completion, no checks: run in the same workerd
 * as the upload worker, it shows what the extra hop itself costs, apart from the upload
 * worker's own work. For the benchmark only (it sends anywhere it is told).
 *
 * @module
 */

export default {
  /**
   * Passes the body on to `?to=`.
   *
   * @param {Request} request The upload.
   * @returns {Promise<Response>} 201 when S3 stored it, 502 otherwise.
   */
  async fetch(request) {
    const to = new URL(request.url).searchParams.get("to");
    if (!to) return new Response("?to= is missing", { status: 400 });
    const headers = new Headers();
    for (const [name, value] of request.headers) {
      if (name.startsWith("x-s3-")) headers.set(name.slice(5), value);
    }
    const stored = await fetch(to, {
      method: "PUT",
      headers,
      body: request.body,
      redirect: "manual",
    });
    await stored.body?.cancel();
    return new Response(null, { status: stored.status === 200 ? 201 : 502 });
  },
};
