/**
 * A {@link PutObject} on `node:http`/`node:https`, for Deno and Node: it streams any body with
 * an exact `Content-Length`. Deno's `fetch` sends a stream body chunked (S3 refuses that with
 * 501) and drops a `Content-Length` set by hand; `node:http` keeps it.
 *
 * @module
 */

import { type IncomingMessage, request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { ProgressListener } from "./progress.ts";
import type { PutObject } from "../_core/put.ts";

/** Options of {@link createNodePut}. */
export interface NodePutOptions {
  /** Told as bytes are handed to the socket. */
  onProgress?: ProgressListener;
}

/** The most of S3's answer body kept (error documents are small). */
const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * Makes a {@link PutObject} that streams the body with `Content-Length: size`. A body that
 * carries fewer or more bytes than `size` fails the upload: the last bytes are held back
 * until the body has ended, so S3 never receives a complete object of the wrong content.
 *
 * @param options Where to report progress.
 * @returns The `PutObject`.
 *
 * @example
 * ```ts ignore
 * import { createNodePut } from "./put_node.ts";
 * const put = createNodePut({ onProgress: ({ loaded, total }) => console.log(loaded, total) });
 * const file = await Deno.open("report.pdf");
 * const { size } = await file.stat();
 * const answer = await put(url, { headers, body: file.readable, size });
 * ```
 */
export function createNodePut(options: NodePutOptions = {}): PutObject {
  const { onProgress } = options;
  return (url, { headers, body, size, signal }) =>
    new Promise<Response>((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const target = new URL(url);
      const send = target.protocol === "https:" ? httpsRequest : httpRequest;
      const outgoing: Record<string, string> = {};
      for (const [key, value] of Object.entries(headers)) {
        if (key.toLowerCase() !== "content-length") outgoing[key] = value;
      }
      outgoing["content-length"] = String(size);
      const source = body instanceof ReadableStream
        ? body as ReadableStream<Uint8Array>
        : new Response(body).body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() });
      const reader = source.getReader();
      const req = send(target, { method: "PUT", headers: outgoing });

      let settled = false;
      let answered = false;
      const settle = (outcome: () => void) => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener("abort", onAbort);
        outcome();
      };
      const fail = (error: unknown) => {
        settle(() => reject(error));
        req.destroy();
        reader.cancel(error).catch(() => {});
      };
      const onAbort = () => fail(signal!.reason);
      signal?.addEventListener("abort", onAbort, { once: true });

      req.on("error", fail);
      req.on("response", (answer: IncomingMessage) => {
        // An early answer (a refusal before the body is through) ends the sending.
        answered = true;
        reader.cancel().catch(() => {});
        readAnswer(answer).then((response) => settle(() => resolve(response)), fail);
      });

      const write = (chunk: Uint8Array) =>
        new Promise<void>((done, failed) => {
          req.write(chunk, (error?: Error | null) => error ? failed(error) : done());
        });

      (async () => {
        let read = 0;
        let sent = 0;
        let held: Uint8Array | undefined;
        onProgress?.({ loaded: 0, total: size });
        for (;;) {
          const { done, value } = await reader.read();
          if (settled || answered) return;
          if (done) break;
          if (value.byteLength === 0) continue;
          read += value.byteLength;
          if (read > size) {
            throw new RangeError(`the body carries more than the ${size} bytes announced`);
          }
          if (held) {
            await write(held);
            sent += held.byteLength;
            onProgress?.({ loaded: sent, total: size });
          }
          held = value;
        }
        if (read !== size) {
          throw new RangeError(`the body ended after ${read} of the ${size} bytes announced`);
        }
        if (held) {
          await write(held);
          sent += held.byteLength;
          onProgress?.({ loaded: sent, total: size });
        }
        req.end();
      })().catch((error) => {
        if (!settled && !answered) fail(error);
      });
    });
}

async function readAnswer(answer: IncomingMessage): Promise<Response> {
  const chunks: Uint8Array[] = [];
  let kept = 0;
  for await (const chunk of answer as AsyncIterable<Uint8Array>) {
    if (kept < MAX_ANSWER_BYTES) {
      chunks.push(chunk);
      kept += chunk.byteLength;
    }
  }
  const headers = new Headers();
  for (const [key, value] of Object.entries(answer.headers)) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.append(key, one);
  }
  const status = answer.statusCode ?? 502;
  const empty = status === 204 || status === 205 || status === 304;
  return new Response(empty ? null : new Blob(chunks as BlobPart[]), {
    status: status >= 200 && status <= 599 ? status : 502,
    statusText: answer.statusMessage,
    headers,
  });
}
