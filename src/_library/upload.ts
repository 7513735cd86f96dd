/**
 * One call from a file to a completed chat attachment.
 *
 * @module
 */

import { describeFile, type FileInput } from "./file_input.ts";
import type { ProgressListener } from "./progress.ts";
import { fetchPut, type PutObject } from "../_core/put.ts";
import { completedVerdict, scanProblem } from "../_core/scan.ts";
import { sendAttachment, type SentAttachment } from "../_core/send.ts";
import {
  defaultUrlPolicy,
  type ParticipantServiceOptions,
  resolveClient,
} from "./service_options.ts";

/**
 * Options of {@link uploadAttachment}.
 *
 * @example
 * ```ts
 * import type { UploadAttachmentOptions } from "./upload.ts";
 * const options: UploadAttachmentOptions = {
 *   region: "us-east-1",
 *   connectionToken: "…",
 *   file: new Blob(["a,b\n1,2\n"]).stream(),
 *   size: 8,
 *   name: "table.csv",
 * };
 * ```
 */
export interface UploadAttachmentOptions extends ParticipantServiceOptions {
  /** The participant's ConnectionToken (see {@link connect} to get one). */
  connectionToken: string;
  /** The file: a path, `file:` URL, `Deno.FsFile`, `Blob`/`File`, bytes or a stream. */
  file: FileInput;
  /**
   * The name shown in the chat.
   * @default {the path's last segment or the File's name; required for other inputs}
   */
  name?: string;
  /**
   * The MIME type.
   * @default {the Blob's type where it has one, else the one of the name's extension}
   */
  contentType?: string;
  /** The exact size in bytes: required for a stream, checked for the other inputs. */
  size?: number;
  /** Cancels the upload at any step. */
  signal?: AbortSignal;
  /**
   * Told as bytes leave. Streamed inputs (paths, open files, streams) report as each chunk is
   * handed to the socket; `Blob` and byte inputs, sent whole by `fetch`, report 0 and then
   * all once S3 confirmed.
   */
  onProgress?: ProgressListener;
  /**
   * The idempotency token of both calls: trying again with the same token never makes a
   * second attachment.
   * @default {crypto.randomUUID()}
   */
  clientToken?: string;
  /**
   * The largest size to send, refused before any call: at most 104,857,600 bytes against
   * Amazon Connect itself, any against another Participant Service (the local stack).
   * @default {104,857,600 bytes: the instance's own limit decides}
   */
  maxBytes?: number;
  /**
   * The MIME types and extensions to send (`application/pdf`, `zip`), others refused before any
   * call. @default {any well-formed extension and type: the instance's settings decide}
   */
  allowedTypes?: ReadonlySet<string> | readonly string[];
  /**
   * Decides whether the pre-signed URL may receive the bytes; a refused URL is never
   * contacted.
   * @default {https URLs, and loopback http URLs while the service is on loopback http}
   */
  isUploadUrlAllowed?: (url: URL) => boolean;
  /**
   * How the bytes are sent.
   * @default {node:http with an exact Content-Length for streamed inputs, fetch for the rest}
   */
  put?: PutObject;
  /**
   * Seconds to wait for the chat's attachment scanner after completion: the upload resolves
   * with `status: "APPROVED"` once approved, with `status: "IN_PROGRESS"` when the time runs
   * out, and rejects with `attachment_rejected` when the scanner rejects the file. Without
   * it, the status is looked up once.
   * @default {0}
   */
  waitForScan?: number;
}

/**
 * Uploads a file into an Amazon Connect chat: checks its name, size, extension and type (the
 * worker's rules, in the worker's order) before any network call, then StartAttachmentUpload
 * (where the instance's own size limit and extensions apply: a refusal is `too_large` or
 * `unsupported_type` with the service's message) → `PUT` of the bytes (streamed, with
 * `HeadersToInclude` and the exact `Content-Length`) → CompleteAttachmentUpload, then the
 * scanner's verdict from the chat's transcript (waiting for it up to `waitForScan` seconds). A
 * refused or broken upload, or a stream with more or fewer bytes than announced, is an error
 * and nothing is completed.
 *
 * @param options The token, the file and where the service is.
 * @returns The completed attachment, with its id and scan `status`.
 * @throws {AttachmentError} With a stable `code` and the `stage` that failed.
 * @throws {TypeError} When neither a client, an endpoint nor a region is given, or `maxBytes`
 * or `allowedTypes` cannot be applied.
 *
 * @example Upload a file by path to the local stack
 * ```ts ignore
 * import { uploadAttachment } from "../mod.ts";
 * const sent = await uploadAttachment({
 *   endpoint: "http://127.0.0.1:8788",
 *   connectionToken: Deno.env.get("CONNECT_CONNECTION_TOKEN")!,
 *   file: "./report.pdf",
 *   onProgress: ({ loaded, total }) => console.log(`${loaded}/${total}`),
 * });
 * console.log(sent.attachmentId);
 * ```
 *
 * @example Bad input is refused before any call
 * ```ts
 * import assert from "node:assert/strict";
 * import { AttachmentError, uploadAttachment } from "../mod.ts";
 * const error = await uploadAttachment({
 *   region: "us-east-1",
 *   connectionToken: "token",
 *   file: new TextEncoder().encode("MZ"),
 *   name: "setup",
 * }).catch((error) => error);
 * assert.ok(error instanceof AttachmentError);
 * assert.equal(error.code, "unsupported_type");
 * assert.equal(error.stage, "validate");
 * ```
 */
export async function uploadAttachment(options: UploadAttachmentOptions): Promise<SentAttachment> {
  const { connectionToken, file, signal, onProgress, maxBytes, allowedTypes } = options;
  const source = await describeFile(file, options.size);
  const client = resolveClient(options);
  const put = options.put ??
    (source.streamed ? await streamingPut(onProgress) : wholePut(onProgress));

  const { body, release } = await source.open();
  let sent: SentAttachment;
  try {
    sent = await sendAttachment({
      client,
      connectionToken,
      name: options.name ?? source.name ?? "",
      contentType: options.contentType ?? source.type,
      size: source.size,
      body,
      clientToken: options.clientToken,
      maxBytes,
      allowedTypes,
      isUploadUrlAllowed: options.isUploadUrlAllowed ?? defaultUrlPolicy(client.baseUrl),
      put,
      signal,
    });
  } finally {
    await release();
  }
  const status = await completedVerdict({
    client,
    connectionToken,
    attachmentId: sent.attachmentId,
    waitMs: (options.waitForScan ?? 0) * 1000,
    signal,
  });
  if (status === "REJECTED") throw scanProblem(status, sent.attachmentId)!;
  return { ...sent, ...(status ? { status } : {}) };
}

async function streamingPut(onProgress?: ProgressListener): Promise<PutObject> {
  // Loaded on first use, so that the module itself stays free of node: built-ins.
  const { createNodePut } = await import("./put_node.ts");
  return createNodePut({ onProgress });
}

function wholePut(onProgress?: ProgressListener): PutObject {
  if (!onProgress) return fetchPut;
  return async (url, init) => {
    onProgress({ loaded: 0, total: init.size });
    const answer = await fetchPut(url, init);
    if (answer.ok) onProgress({ loaded: init.size, total: init.size });
    return answer;
  };
}
