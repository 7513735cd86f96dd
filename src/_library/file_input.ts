/**
 * The kinds of file {@link uploadAttachment} takes, and how each tells its size, name and
 * type before any byte is read.
 *
 * @module
 */

import { AttachmentError } from "../_core/errors.ts";

/**
 * What can be uploaded: a path (string or `file:` URL), an open `Deno.FsFile` (read from its
 * current position; left open), a `Blob` or `File`, bytes, or a stream of bytes whose size is
 * given separately.
 *
 * @example
 * ```ts
 * import type { FileInput } from "./file_input.ts";
 * const inputs: FileInput[] = [
 *   "./report.pdf",
 *   new URL("file:///tmp/report.pdf"),
 *   new File(["hello"], "hello.txt", { type: "text/plain" }),
 *   new TextEncoder().encode("hello"),
 *   new Blob(["hello"]).stream(),
 * ];
 * ```
 */
export type FileInput =
  | string
  | URL
  | Deno.FsFile
  | Blob
  | ArrayBuffer
  | ArrayBufferView<ArrayBuffer>
  | ReadableStream<Uint8Array>;

/** What is known about a file before it is read, and how to read it. */
export interface FileSource {
  /** The exact size in bytes. */
  size: number;
  /** The name the input carries (a path's last segment, a `File`'s name), if any. */
  name?: string;
  /** The type the input carries (a `Blob`'s type), if any. */
  type?: string;
  /** Whether the body is a stream (and so needs a `PutObject` that keeps the length). */
  streamed: boolean;
  /** Opens the body. Call `release` when done, whatever happened. */
  open(): Promise<{ body: BodyInit; release(): Promise<void> }>;
}

/**
 * Learns a file's size, name and type without reading it.
 *
 * @param file The input.
 * @param size The size of a stream (required for streams; checked against the others).
 * @returns The facts and a way to open the body.
 * @throws {AttachmentError} `invalid_file` when the file cannot be read or the size is unknown
 * or contradicted.
 */
export async function describeFile(file: FileInput, size?: number): Promise<FileSource> {
  if (size !== undefined && !(Number.isSafeInteger(size) && size >= 0)) {
    throw invalid(`size must be a whole number of bytes, got ${size}`);
  }
  if (typeof file === "string" || file instanceof URL) return await describePath(file, size);
  if (file instanceof Blob) {
    return fixed(file, file.size, size, file instanceof File ? file.name : undefined, file.type);
  }
  if (file instanceof ArrayBuffer || ArrayBuffer.isView(file)) {
    return fixed(file, file.byteLength, size);
  }
  if (file instanceof ReadableStream) {
    if (size === undefined) {
      throw invalid("a stream has no size of its own: pass size, the exact number of bytes");
    }
    return {
      size,
      streamed: true,
      open: () =>
        Promise.resolve({
          body: file,
          release: async () => {
            if (!file.locked) await file.cancel().catch(() => {});
          },
        }),
    };
  }
  if (isFsFile(file)) return await describeFsFile(file, size);
  throw invalid("file must be a path, URL, Deno.FsFile, Blob, bytes or ReadableStream");
}

function fixed(
  body: BodyInit,
  actual: number,
  size: number | undefined,
  name?: string,
  type?: string,
): FileSource {
  if (size !== undefined && size !== actual) {
    throw invalid(`size says ${size} bytes but the file has ${actual}`);
  }
  return {
    size: actual,
    name: name || undefined,
    type: type || undefined,
    streamed: false,
    open: () => Promise.resolve({ body, release: () => Promise.resolve() }),
  };
}

async function describePath(path: string | URL, size: number | undefined): Promise<FileSource> {
  const shown = path instanceof URL ? path.href : path;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(path);
  } catch (error) {
    throw invalid(`cannot read ${shown}: ${reason(error)}`, error);
  }
  if (!info.isFile) throw invalid(`${shown} is not a regular file`);
  if (size !== undefined && size !== info.size) {
    throw invalid(`size says ${size} bytes but ${shown} has ${info.size}`);
  }
  const segments = (path instanceof URL ? decodeURIComponent(path.pathname) : path)
    .split(/[/\\]/);
  return {
    size: info.size,
    name: segments.at(-1) || undefined,
    streamed: true,
    async open() {
      let handle: Deno.FsFile;
      try {
        handle = await Deno.open(path, { read: true });
      } catch (error) {
        throw invalid(`cannot open ${shown}: ${reason(error)}`, error);
      }
      const body = handle.readable;
      return {
        body,
        async release() {
          // The stream closes the file once read or cancelled; otherwise close it here.
          if (!body.locked) await body.cancel().catch(() => {});
          try {
            handle.close();
          } catch {
            // Already closed by its stream.
          }
        },
      };
    },
  };
}

async function describeFsFile(file: Deno.FsFile, size: number | undefined): Promise<FileSource> {
  let known = size;
  if (known === undefined) {
    try {
      const { size: total } = await file.stat();
      const position = await file.seek(0, Deno.SeekMode.Current);
      known = total - position;
    } catch (error) {
      throw invalid(`cannot tell the size of the open file (pass size): ${reason(error)}`, error);
    }
  }
  return {
    size: known,
    streamed: true,
    open: () =>
      Promise.resolve({
        // Read without closing: the caller opened the file and closes it.
        body: new ReadableStream<Uint8Array>({
          async pull(controller) {
            const chunk = new Uint8Array(64 * 1024);
            const n = await file.read(chunk);
            if (n === null) controller.close();
            else controller.enqueue(chunk.subarray(0, n));
          },
        }),
        release: () => Promise.resolve(),
      }),
  };
}

function isFsFile(value: unknown): value is Deno.FsFile {
  return typeof Deno !== "undefined" && typeof Deno.FsFile === "function" &&
    value instanceof Deno.FsFile;
}

function invalid(message: string, cause?: unknown): AttachmentError {
  return new AttachmentError("invalid_file", "validate", message, { cause });
}

function reason(error: unknown): string {
  if (error instanceof Deno.errors.NotFound) return "no such file";
  if (error instanceof Deno.errors.PermissionDenied) return "permission denied";
  if (error instanceof Deno.errors.NotCapable) return "read access not granted (--allow-read)";
  return error instanceof Error ? error.message : String(error);
}
