/**
 * SigV4 pre-signing and signed calls against the local S3, with aws4fetch.
 *
 * @module
 */

import { AwsClient, AwsV4Signer } from "aws4fetch";

/** Where objects live and the credentials that sign for them. */
export interface S3Target {
  /** The S3 base URL, such as `http://127.0.0.1:4568`. */
  url: string;
  /**
   * The S3 base URL that pre-signed URLs name, when clients reach S3 another way (such as
   * through a proxy that adds latency or faults). @default {url}
   */
  publicUrl?: string;
  /** The bucket. */
  bucket: string;
  accessKeyId: string;
  secretAccessKey: string;
  region: string;
}

/** A pre-signed request: the URL, the headers that must go with it, and its expiry. */
export interface PresignedRequest {
  url: string;
  headers: Record<string, string>;
  expiresAt: Date;
}

/**
 * The URL of an object; each segment of its key is percent-encoded.
 *
 * @param target The bucket.
 * @param key The object key.
 * @param base The S3 base URL to use.
 */
export function objectUrl(target: S3Target, key: string, base = target.url): string {
  const path = key.split("/").map(encodeURIComponent).join("/");
  return `${base}/${target.bucket}/${path}`;
}

/**
 * Pre-signs a request for an object with SigV4 in the query string. Every header given is
 * signed, so the request must carry each of them unchanged.
 *
 * @param target The bucket and credentials.
 * @param method `PUT` to upload, `GET` to download.
 * @param key The object key.
 * @param headers Headers to sign (and so to require).
 * @param expiresInSeconds How long the URL is valid.
 */
export async function presignObject(
  target: S3Target,
  method: "PUT" | "GET",
  key: string,
  headers: Record<string, string>,
  expiresInSeconds: number,
): Promise<PresignedRequest> {
  const url = new URL(objectUrl(target, key, target.publicUrl ?? target.url));
  url.searchParams.set("X-Amz-Expires", String(expiresInSeconds));
  const signer = new AwsV4Signer({
    url: url.href,
    method,
    headers,
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    region: target.region,
    service: "s3",
    signQuery: true,
    allHeaders: true,
  });
  const signed = await signer.sign();
  return {
    url: signed.url.href,
    headers,
    expiresAt: new Date(Date.now() + expiresInSeconds * 1000),
  };
}

/**
 * Looks an object up with a signed `HEAD`.
 *
 * @param target The bucket and credentials.
 * @param key The object key.
 * @returns Its size and ETag (unquoted: the MD5 of a single-part upload), or `undefined` when
 * there is no such object.
 */
export async function headObject(
  target: S3Target,
  key: string,
): Promise<{ size: number; etag: string } | undefined> {
  const response = await signedClient(target).fetch(objectUrl(target, key), { method: "HEAD" });
  await response.body?.cancel();
  if (response.status === 404) return undefined;
  if (!response.ok) throw new Error(`S3 HEAD answered ${response.status}`);
  return {
    size: Number(response.headers.get("content-length")),
    etag: (response.headers.get("etag") ?? "").replaceAll('"', ""),
  };
}

/**
 * Reads an object with a signed `GET`.
 *
 * @param target The bucket and credentials.
 * @param key The object key.
 * @returns Its bytes as a stream, or `undefined` when there is no such object.
 *
 * @example
 * ```ts ignore
 * const body = await readObject(target, "contact/attachment");
 * ```
 */
export async function readObject(
  target: S3Target,
  key: string,
): Promise<ReadableStream<Uint8Array> | undefined> {
  const response = await signedClient(target).fetch(objectUrl(target, key));
  if (response.status === 404) {
    await response.body?.cancel();
    return undefined;
  }
  if (!response.ok || !response.body) {
    await response.body?.cancel();
    throw new Error(`S3 GET answered ${response.status}`);
  }
  return response.body;
}

/**
 * Deletes an object with a signed `DELETE`.
 *
 * @param target The bucket and credentials.
 * @param key The object key.
 *
 * @example
 * ```ts ignore
 * await deleteObject(target, "contact/attachment");
 * ```
 */
export async function deleteObject(target: S3Target, key: string): Promise<void> {
  const response = await signedClient(target).fetch(objectUrl(target, key), { method: "DELETE" });
  await response.body?.cancel();
  if (!response.ok) throw new Error(`S3 DELETE answered ${response.status}`);
}

function signedClient(target: S3Target): AwsClient {
  return new AwsClient({
    accessKeyId: target.accessKeyId,
    secretAccessKey: target.secretAccessKey,
    region: target.region,
    service: "s3",
  });
}

/**
 * A `Content-Disposition` value for a download named `name`: an ASCII `filename` (quotes,
 * backslashes and non-ASCII characters replaced by `_`, shortened to fit, extension kept)
 * and, where the name is not plain ASCII and it fits, an RFC 8187 `filename*`.
 *
 * @param name The attachment name.
 * @param maxLength The longest value allowed (the service caps header values at 256).
 */
export function attachmentDisposition(name: string, maxLength = 256): string {
  let ascii = name.replace(/[^\x20-\x7e]|["\\]/g, "_");
  const budget = maxLength - 'attachment; filename=""'.length;
  if (ascii.length > budget) {
    const dot = ascii.lastIndexOf(".");
    const ext = dot > 0 && ascii.length - dot <= 16 ? ascii.slice(dot) : "";
    ascii = ascii.slice(0, budget - ext.length) + ext;
  }
  const plain = `attachment; filename="${ascii}"`;
  if (/^[\x20-\x7e]*$/.test(name) && !/["\\]/.test(name)) return plain;
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase(),
  );
  const extended = `${plain}; filename*=UTF-8''${encoded}`;
  return extended.length <= maxLength ? extended : plain;
}
