/**
 * Progress of a transfer: what listeners are told, and a stream that counts what passes.
 *
 * @module
 */

/**
 * How far a transfer has come.
 *
 * @example
 * ```ts
 * import type { TransferProgress } from "./progress.ts";
 * const halfway: TransferProgress = { loaded: 512, total: 1024 };
 * console.log(`${Math.round((100 * halfway.loaded) / halfway.total)}%`); // 50%
 * ```
 */
export interface TransferProgress {
  /** Bytes moved so far. */
  loaded: number;
  /** Bytes in all. */
  total: number;
}

/**
 * Told as bytes move: once with `loaded: 0` before the first byte, then as bytes go, and
 * last with `loaded === total` once all of them went.
 *
 * @example
 * ```ts
 * import type { ProgressListener } from "./progress.ts";
 * const log: ProgressListener = ({ loaded, total }) => console.log(`${loaded}/${total}`);
 * log({ loaded: 0, total: 10 });
 * ```
 */
export type ProgressListener = (progress: TransferProgress) => void;

/**
 * Passes a byte stream through, telling `listener` how many bytes went by, and fails the
 * stream when it carries more or fewer than `total` bytes.
 *
 * @param stream The bytes.
 * @param total How many bytes the stream must carry.
 * @param listener Told as bytes pass.
 * @returns The same bytes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { countedStream } from "./progress.ts";
 * const seen: number[] = [];
 * const bytes = new Blob(["hello"]).stream();
 * await new Response(countedStream(bytes, 5, ({ loaded }) => seen.push(loaded))).text();
 * assert.deepEqual(seen, [0, 5]);
 * ```
 */
export function countedStream(
  stream: ReadableStream<Uint8Array>,
  total: number,
  listener?: ProgressListener,
): ReadableStream<Uint8Array> {
  let loaded = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      start() {
        listener?.({ loaded, total });
      },
      transform(chunk, controller) {
        loaded += chunk.byteLength;
        if (loaded > total) {
          controller.error(new RangeError(`got more than the ${total} bytes announced`));
          return;
        }
        controller.enqueue(chunk);
        listener?.({ loaded, total });
      },
      flush(controller) {
        if (loaded !== total) {
          controller.error(new RangeError(`got ${loaded} of the ${total} bytes announced`));
        }
      },
    }),
  );
}
