/**
 * HTTP on a test's side: a `fetch` that records every exchange it carries, a small server for
 * answers the local service would never send, an answer that breaks off, and an upload by
 * hand (StartAttachmentUpload, then a `PUT` to the pre-signed URL that reads S3's error code),
 * and a bucket taken away.
 *
 * @module
 */

import assert from "node:assert/strict";
import { AwsClient } from "aws4fetch";
import { LOCAL_S3_CREDENTIALS, type LocalS3 } from "../local/s3.ts";
import type { ParticipantCalls } from "../src/_core/client.ts";

/** One request and its answer, as seen on the wire by {@link recordingFetch}. */
export interface Exchange {
  method: string;
  /** The URL path, such as `/participant/transcript`. */
  path: string;
  /** The request's headers as sent. */
  requestHeaders: Headers;
  /** The request body as sent, where it had one. */
  requestBody?: string;
  /** The answer's status, or 0 where none came. */
  status: number;
  headers: Headers;
  /** The answer's body as text; `undefined` where it broke off. */
  body?: string;
}

/**
 * A `fetch` over real sockets that records every exchange it carries, body included.
 *
 * @param base The `fetch` to wrap.
 * @returns The wrapping `fetch` and the list it appends to.
 */
export function recordingFetch(
  base: typeof fetch = (input, init) => globalThis.fetch(input, init),
): { fetch: typeof fetch; exchanges: Exchange[] } {
  const exchanges: Exchange[] = [];
  const recording: typeof fetch = async (input, init) => {
    const request = new Request(input, init);
    const requestBody = request.body ? await request.clone().text() : undefined;
    const exchange: Exchange = {
      method: request.method,
      path: new URL(request.url).pathname,
      requestHeaders: new Headers(request.headers),
      requestBody,
      status: 0,
      headers: new Headers(),
    };
    exchanges.push(exchange);
    const response = await base(request);
    exchange.status = response.status;
    exchange.headers = response.headers;
    const bytes = await response.arrayBuffer().catch(() => undefined);
    if (bytes === undefined) {
      // The body broke off: hand on an answer whose body fails the same way.
      const broken = new ReadableStream({
        start: (c) => c.error(new TypeError("error reading a body from connection")),
      });
      return new Response(broken, { status: response.status, headers: response.headers });
    }
    exchange.body = new TextDecoder().decode(bytes);
    const noBody = [204, 205, 304].includes(response.status);
    return new Response(noBody ? null : bytes, {
      status: response.status,
      statusText: response.statusText,
      headers: response.headers,
    });
  };
  return { fetch: recording, exchanges };
}

/** An upload StartAttachmentUpload started, for a `PUT` by hand. */
export interface StartedUpload {
  /** The AttachmentId. */
  id: string;
  /** The pre-signed URL. */
  url: string;
  /** `HeadersToInclude`. */
  headers: Record<string, string>;
  /** `UrlExpiry`, as the service wrote it. */
  expiry: string;
}

/**
 * StartAttachmentUpload through the client, asserted to succeed.
 *
 * @param client The Participant Service client.
 * @param token The ConnectionToken.
 * @param file The name, type and size to announce.
 * @returns The attachment id, the URL, its headers and its expiry.
 */
export async function startUpload(
  client: ParticipantCalls,
  token: string,
  file: { name: string; contentType: string; size: number },
): Promise<StartedUpload> {
  const { data, error } = await client.startAttachmentUpload(token, {
    AttachmentName: file.name,
    ContentType: file.contentType,
    AttachmentSizeInBytes: file.size,
  });
  assert.ok(data, JSON.stringify(error));
  return {
    id: data.AttachmentId!,
    url: data.UploadMetadata!.Url!,
    headers: data.UploadMetadata!.HeadersToInclude!,
    expiry: data.UploadMetadata!.UrlExpiry!,
  };
}

/**
 * Uploads bytes with the headers StartAttachmentUpload asked for.
 *
 * @param url The pre-signed URL.
 * @param headers `HeadersToInclude`.
 * @param body The bytes.
 * @returns S3's status and its error code, where it refused.
 */
export async function putUpload(
  url: string,
  headers: Record<string, string>,
  body: BodyInit,
): Promise<{ status: number; code?: string }> {
  const response = await fetch(url, { method: "PUT", headers, body });
  const text = await response.text();
  return { status: response.status, code: /<Code>([^<]+)<\/Code>/.exec(text)?.[1] };
}

/**
 * Deletes the local S3's (empty) bucket with a signed call: from then on S3 answers every
 * upload with 404 NoSuchBucket.
 *
 * @param s3 The local S3.
 */
export async function deleteBucket(s3: LocalS3): Promise<void> {
  const aws = new AwsClient({ ...LOCAL_S3_CREDENTIALS, service: "s3" });
  const deleted = await aws.fetch(`${s3.url}/${s3.bucket}`, { method: "DELETE" });
  assert.equal(deleted.status, 204, await deleted.text());
}

/** A small HTTP server on a free port, for answers the local service would never send. */
export interface TinyServer {
  /** Its base URL, such as `http://127.0.0.1:41234`. */
  url: string;
  /** How many requests it has received. */
  readonly requests: number;
  close(): Promise<void>;
}

/**
 * Serves `handler` on 127.0.0.1 on a free port, over real sockets.
 *
 * @param handler Answers each request; it is told the request's number, from 1.
 */
export function serveTiny(
  handler: (request: Request, n: number) => Response | Promise<Response>,
): TinyServer {
  let requests = 0;
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handler(request, ++requests),
  );
  return {
    url: `http://127.0.0.1:${server.addr.port}`,
    get requests() {
      return requests;
    },
    close: () => server.shutdown(),
  };
}

/** A 200 answer whose connection breaks after the headers. */
export function brokenAnswer(): Response {
  const body = new ReadableStream({ start: (c) => c.error(new Error("cut off")) });
  return new Response(body, { headers: { "content-type": "application/json" } });
}
