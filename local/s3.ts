/**
 * A local S3-compatible server that verifies SigV4 signatures, for development and tests.
 *
 * Where it differs from S3 (measured; the tests allow for it, the package is used as it is):
 *
 * - A `PUT` cut off mid-body leaves an empty object under its key, where S3 stores nothing.
 *   Tests count only objects of the full size as stored (`storedObjects()` in the test
 *   support).
 * - When it refuses a large `PUT` (a 403 for a bad signature) without reading the body, the
 *   next request on that same keep-alive connection waits about 6 s before it is served
 *   (5 MB body: 6.0 s, three times out of three; a fresh connection, or a 10 KB body, is not
 *   delayed). Nothing is lost, only time. The fault proxy reads a body to its end before it
 *   answers with an injected error, so injected faults do not cause it.
 * - A connection whose upload was cut can keep the server from closing for minutes (its
 *   request never ends); {@link LocalS3.close} ends every connection first.
 *
 * @module
 */

import S3rver from "s3rver";
import { assertPortFree } from "./ports.ts";

/** The credentials the local S3 accepts (any request signed with them verifies). */
export const LOCAL_S3_CREDENTIALS = Object.freeze({
  accessKeyId: "S3RVER",
  secretAccessKey: "S3RVER",
  region: "us-east-1",
});

/** Options of {@link startLocalS3}. */
export interface LocalS3Options {
  /** @default {"127.0.0.1"} */
  hostname?: string;
  /** `0` picks a free port. @default {4568} */
  port?: number;
  /** The bucket attachments go to. @default {"connect-attachments"} */
  bucket?: string;
  /**
   * Where objects are stored. By default a fresh temporary folder, removed on close: data
   * never lands in the checkout.
   */
  directory?: string;
}

/** A running local S3. */
export interface LocalS3 {
  /** The base URL, such as `http://127.0.0.1:4568`. */
  url: string;
  /** The attachments bucket. */
  bucket: string;
  /** Where objects are stored on disk. */
  directory: string;
  /** Stops the server (and removes its folder when it made one). */
  close(): Promise<void>;
}

/**
 * Starts `@20minutes/s3rver`, which checks SigV4 header and query signatures, signed headers
 * and expiry as S3 does. A port in use is an error.
 *
 * @param options Address, bucket and storage folder.
 * @returns The running server.
 *
 * @example
 * ```ts ignore
 * import { startLocalS3 } from "./s3.ts";
 * const s3 = await startLocalS3({ port: 0 });
 * console.log(s3.url);
 * await s3.close();
 * ```
 */
export async function startLocalS3(options: LocalS3Options = {}): Promise<LocalS3> {
  const { hostname = "127.0.0.1", port = 4568, bucket = "connect-attachments" } = options;
  assertPortFree(hostname, port, "local S3", "S3_PORT");
  const ownDirectory = options.directory === undefined;
  const directory = options.directory ??
    await Deno.makeTempDir({ prefix: "connect-attachments-s3-" });
  const server = new S3rver({
    address: hostname,
    port,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket, configs: [] }],
  });
  let address: { port: number };
  try {
    address = await server.run() as { port: number };
  } catch (error) {
    if (ownDirectory) await Deno.remove(directory, { recursive: true }).catch(() => {});
    throw new Error(`local S3 could not listen on ${hostname}:${port}: ${errorText(error)}`);
  }
  return {
    url: `http://${hostname}:${address.port}`,
    bucket,
    directory,
    async close() {
      // A connection whose upload was cut mid-body can linger in the server for minutes (its
      // request never ends), and close() waits for every connection: end them all first.
      (server as unknown as { httpServer?: { closeAllConnections?(): void } }).httpServer
        ?.closeAllConnections?.();
      await server.close();
      if (ownDirectory) await Deno.remove(directory, { recursive: true }).catch(() => {});
    },
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
