/**
 * The local stack in one process: a verifying S3 and the local Participant Service.
 *
 * @module
 */

import { LOCAL_S3_CREDENTIALS, type LocalS3, startLocalS3 } from "./s3.ts";
import { createLocalService, type LocalService, type LocalServiceOptions } from "./service.ts";
import { assertPortFree } from "../testing/ports.ts";

/** Options of {@link startLocalStack}. */
export interface LocalStackOptions extends Omit<LocalServiceOptions, "s3"> {
  /** The address both servers listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** The local S3's port; `0` picks a free one. @default {4568} */
  s3Port?: number;
  /** The Participant Service's port; `0` picks a free one. @default {8788} */
  participantPort?: number;
  /**
   * Origins whose pages may PUT to and GET from the bucket (its CORS rule; `*` for any).
   * @default {[]} no CORS rule, as a bucket nobody configured
   */
  s3CorsOrigins?: readonly string[];
}

/** A running local stack. */
export interface LocalStack {
  /** The local S3. */
  s3: LocalS3;
  /** The Participant Service's base URL. */
  participantUrl: string;
  /** The Participant Service itself (store and fault injector). */
  service: LocalService;
  /** Stops both servers and removes the S3 data. */
  close(): Promise<void>;
}

/**
 * Starts the local S3 and the local Participant Service. A port in use is an error.
 *
 * @param options Ports, limits, time-outs, scanning and the bucket's CORS origins.
 * @returns The running stack.
 *
 * @example
 * ```ts ignore
 * import { startLocalStack } from "./stack.ts";
 * const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
 * console.log(stack.participantUrl);
 * await stack.close();
 * ```
 */
export async function startLocalStack(options: LocalStackOptions = {}): Promise<LocalStack> {
  const {
    hostname = "127.0.0.1",
    s3Port = 4568,
    participantPort = 8788,
    s3CorsOrigins,
    ...serviceOptions
  } = options;
  assertPortFree(hostname, participantPort, "Participant Service", "PARTICIPANT_PORT");
  const s3 = await startLocalS3({ hostname, port: s3Port, corsOrigins: s3CorsOrigins });
  const service = createLocalService({
    ...serviceOptions,
    s3: { url: s3.url, bucket: s3.bucket, ...LOCAL_S3_CREDENTIALS },
  });
  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve(
      { hostname, port: participantPort, onListen: () => {} },
      service.app.fetch,
    );
  } catch (error) {
    await s3.close();
    throw error;
  }
  return {
    s3,
    participantUrl: `http://${hostname}:${server.addr.port}`,
    service,
    async close() {
      service.close();
      await server.shutdown();
      await s3.close();
    },
  };
}
