/**
 * A local S3-compatible server that verifies SigV4 signatures, for development and tests.
 *
 * `@20minutes/s3rver` is used as it is, with three corrections made here where it differs
 * from S3 in ways that break real clients:
 *
 * - Its verifier puts a signed header's raw value in the canonical request; SigV4 (and S3)
 *   trims it and collapses runs of white space to one space. A `Content-Disposition` with
 *   `filename="My  Report.pdf"` was refused with `SignatureDoesNotMatch`. The value is
 *   canonicalized for the signature only: S3 stores and returns it exactly as sent.
 * - When it refuses a `PUT` before reading the body (a 403 for a bad signature), it answered
 *   `Connection: keep-alive` and then reset the connection, so a client's next request on it
 *   failed (`ECONNRESET`) or waited seconds. Such an answer now says `Connection: close` and
 *   the connection ends cleanly.
 * - Its CORS preflight answer allows the origin `*` whatever the rule says; it now names the
 *   requesting origin, as S3 does, unless the rule allows every origin.
 *
 * Where it still differs (measured; the tests allow for it):
 *
 * - A `PUT` cut off mid-body leaves an empty object under its key, where S3 stores nothing.
 *   Tests count only objects of the full size as stored (`storedObjects()` in the test
 *   support).
 * - A connection whose upload was cut can keep the server from closing for minutes (its
 *   request never ends); {@link LocalS3.close} ends every connection first.
 *
 * @module
 */

import { createRequire } from "node:module";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import S3rver from "s3rver";
import { assertPortFree } from "../testing/ports.ts";

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
  /**
   * Origins whose pages may `PUT` to and `GET` from the bucket: its CORS rule, as an admin
   * gives the attachments bucket of a real instance (`*` allows any origin).
   * @default {[]} no CORS rule: browsers may not use the bucket from other origins
   */
  corsOrigins?: readonly string[];
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
  const corsOrigins = options.corsOrigins ?? [];
  canonicalizeSignedHeaderValues();
  const server = new S3rver({
    address: hostname,
    port,
    silent: true,
    directory,
    configureBuckets: [{
      name: bucket,
      configs: corsOrigins.length ? [corsRule(corsOrigins)] : [],
    }],
  });
  let address: { port: number };
  try {
    address = await server.run() as { port: number };
    correctAnswers(httpServerOf(server), corsOrigins.includes("*"));
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
      httpServerOf(server).closeAllConnections?.();
      await server.close();
      if (ownDirectory) await Deno.remove(directory, { recursive: true }).catch(() => {});
    },
  };
}

/**
 * The bucket's CORS configuration: the origins may `GET`, `PUT` and `HEAD` with any header
 * (the signed `HeadersToInclude` of an upload), and read `ETag`.
 */
function corsRule(origins: readonly string[]): string {
  const escape = (text: string) =>
    text.replaceAll("&", "&amp;").replaceAll("<", "&lt;").replaceAll(">", "&gt;");
  return [
    "<CORSConfiguration><CORSRule>",
    ...origins.map((origin) => `<AllowedOrigin>${escape(origin)}</AllowedOrigin>`),
    "<AllowedMethod>GET</AllowedMethod><AllowedMethod>PUT</AllowedMethod>",
    "<AllowedMethod>HEAD</AllowedMethod><AllowedHeader>*</AllowedHeader>",
    "<ExposeHeader>ETag</ExposeHeader><MaxAgeSeconds>3000</MaxAgeSeconds>",
    "</CORSRule></CORSConfiguration>",
  ].join("");
}

type StringToSign = (
  canonicalRequest: { headers: Record<string, string | undefined> },
  request: { signedHeaders: string[] },
) => string;

let canonicalized = false;

/**
 * Makes the package's SigV4 verifier canonicalize signed header values as SigV4 does (trim,
 * runs of white space collapsed to one space) before it computes the string to sign. The
 * headers the request carries, and so what is stored, stay as they were.
 */
function canonicalizeSignedHeaderValues(): void {
  if (canonicalized) return;
  canonicalized = true;
  const require = createRequire(import.meta.resolve("s3rver"));
  const v4 = require("./signature/v4.js") as { getStringToSign: StringToSign };
  const raw = v4.getStringToSign;
  v4.getStringToSign = (canonicalRequest, request) => {
    const headers = { ...canonicalRequest.headers };
    for (const name of request.signedHeaders) {
      const value = headers[name];
      if (typeof value === "string") headers[name] = value.trim().replace(/\s+/g, " ");
    }
    return raw({ ...canonicalRequest, headers }, request);
  };
}

function httpServerOf(server: S3rver): Server {
  return (server as unknown as { httpServer: Server }).httpServer;
}

/**
 * Corrects two things in every answer, just before its head is written: an answer given
 * while the request's body is still unread closes the connection (`Connection: close`)
 * instead of keeping a connection it will reset; a CORS preflight names the requesting
 * origin instead of `*` unless every origin is allowed.
 */
function correctAnswers(httpServer: Server, anyOrigin: boolean): void {
  const handlers = httpServer.listeners("request") as ((
    req: IncomingMessage,
    res: ServerResponse,
  ) => void)[];
  httpServer.removeAllListeners("request");
  httpServer.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const hasBody = Number(req.headers["content-length"] ?? 0) > 0 ||
      req.headers["transfer-encoding"] !== undefined;
    let corrected = false;
    const correct = () => {
      if (corrected || res.headersSent) return;
      corrected = true;
      if (hasBody && !req.complete) res.setHeader("Connection", "close");
      const origin = req.headers.origin;
      if (
        req.method === "OPTIONS" && origin && !anyOrigin &&
        res.getHeader("access-control-allow-origin") === "*"
      ) {
        res.setHeader("Access-Control-Allow-Origin", origin);
      }
    };
    for (const method of ["writeHead", "write", "end"] as const) {
      const original = res[method] as (...args: unknown[]) => unknown;
      (res as unknown as Record<string, unknown>)[method] = function (
        this: ServerResponse,
        ...args: unknown[]
      ) {
        correct();
        return original.apply(this, args);
      };
    }
    for (const handler of handlers) handler.call(httpServer, req, res);
  });
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
