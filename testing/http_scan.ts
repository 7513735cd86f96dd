/**
 * Finds where HTTP/1.1 requests and responses begin and end in a byte stream, without buffering
 * bodies: the local proxy uses it to record request heads, to strike single requests on a
 * kept-alive connection, and to know when it may answer `Expect: 100-continue` itself.
 *
 * @module
 */

/** A request head found in a chunk. */
export interface ScannedHead {
  /** The head, from the request line to the blank line, as sent (bytes as Latin-1). */
  text: string;
  /** Where the head ends in the chunk that completed it (the body, if any, starts here). */
  end: number;
}

/**
 * The `Content-Length` a message head declares.
 *
 * @param head A request or response head, as text.
 * @returns The length, or `undefined` where the head declares none.
 *
 * @example
 * ```ts
 * import { declaredLength } from "./http_scan.ts";
 * console.assert(declaredLength("PUT /a HTTP/1.1\r\nContent-Length: 2\r\n\r\n") === 2);
 * ```
 */
export function declaredLength(head: string): number | undefined {
  const length = /^content-length:[ \t]*(\d+)[ \t]*$/im.exec(head)?.[1];
  return length === undefined ? undefined : Number(length);
}

const LATIN1 = new TextDecoder("latin1");
const MAX_HEAD = 64 * 1024;
const WINDOW = 16 * 1024;

/**
 * Tracks the requests of one connection, chunk by chunk. Bodies are skipped by their
 * `Content-Length`; a chunked body (or a head too big to be one) ends the tracking, since
 * the local stack's uploads always carry a length.
 *
 * @example
 * ```ts
 * import { RequestScanner } from "./http_scan.ts";
 * const scanner = new RequestScanner();
 * const bytes = new TextEncoder().encode("PUT /a HTTP/1.1\r\ncontent-length: 2\r\n\r\nhi");
 * console.log(scanner.push(bytes)[0].text.split("\r\n")[0]); // PUT /a HTTP/1.1
 * ```
 */
export class RequestScanner {
  #head = "";
  #bodyLeft = 0;
  #lost = false;

  /** Whether tracking stopped (a chunked body or an oversized head). */
  get lost(): boolean {
    return this.#lost;
  }

  /**
   * Reads the next chunk of the client's bytes.
   *
   * @param chunk The bytes, in order.
   * @returns The heads completed in this chunk.
   */
  push(chunk: Uint8Array): ScannedHead[] {
    const heads: ScannedHead[] = [];
    let i = 0;
    while (i < chunk.length && !this.#lost) {
      if (this.#bodyLeft > 0) {
        const skip = Math.min(this.#bodyLeft, chunk.length - i);
        this.#bodyLeft -= skip;
        i += skip;
        continue;
      }
      const window = LATIN1.decode(chunk.subarray(i, i + WINDOW));
      const seen = this.#head + window;
      const at = seen.indexOf("\r\n\r\n");
      if (at < 0) {
        this.#head = seen.replace(/^(\r\n)+/, "");
        i += window.length;
        if (this.#head.length > MAX_HEAD) this.#lost = true;
        continue;
      }
      const text = seen.slice(0, at + 4);
      i += text.length - this.#head.length;
      this.#head = "";
      const head = text.replace(/^(\r\n)+/, "");
      if (head === "") continue;
      heads.push({ text: head, end: i });
      if (/^transfer-encoding:.*chunked/im.test(head)) {
        this.#lost = true;
        break;
      }
      this.#bodyLeft = declaredLength(head) ?? 0;
    }
    return heads;
  }
}

type ResponseState = "head" | "length" | "chunk-size" | "chunk-data" | "chunk-end" | "trailer";

/**
 * Follows the responses on one connection, chunk by chunk, to tell when every request passed
 * on so far has had its whole final response: {@link ResponseScanner.expect} for each request
 * (in order), {@link ResponseScanner.push} for the bytes coming back. Interim `1xx` answers are
 * skipped; bodies are framed as RFC 9112 says (none for `HEAD`, `204` and `304`, then
 * `Transfer-Encoding: chunked`, then `Content-Length`). Anything it cannot follow (a body that
 * ends at the close, `101`, a malformed line, an answer nobody asked for) ends the tracking.
 *
 * @example
 * ```ts
 * import { ResponseScanner } from "./http_scan.ts";
 * const scanner = new ResponseScanner();
 * scanner.expect("PUT");
 * scanner.push(new TextEncoder().encode("HTTP/1.1 201 Created\r\ncontent-length: 2\r\n\r\n"));
 * console.log(scanner.pending); // 1: the body has not passed yet
 * scanner.push(new TextEncoder().encode("{}"));
 * console.log(scanner.pending); // 0
 * ```
 */
export class ResponseScanner {
  #methods: string[] = [];
  #state: ResponseState = "head";
  #text = "";
  #left = 0;
  #lost = false;

  /** Whether tracking stopped: {@link ResponseScanner.pending} no longer means anything. */
  get lost(): boolean {
    return this.#lost;
  }

  /** Requests passed on whose final response has not passed in full. */
  get pending(): number {
    return this.#methods.length + (this.#state === "head" ? 0 : 1);
  }

  /**
   * Notes a request passed on, before its bytes go.
   *
   * @param method Its method (`HEAD` answers carry no body).
   */
  expect(method: string): void {
    this.#methods.push(method.toUpperCase());
  }

  /**
   * Reads the next chunk of the server's bytes.
   *
   * @param chunk The bytes, in order.
   */
  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length && !this.#lost) {
      if (this.#state === "length" || this.#state === "chunk-data") {
        const skip = Math.min(this.#left, chunk.length - i);
        this.#left -= skip;
        i += skip;
        if (this.#left === 0) this.#state = this.#state === "length" ? "head" : "chunk-end";
        continue;
      }
      const delimiter = this.#state === "head" ? "\r\n\r\n" : "\r\n";
      const found = this.#until(chunk, i, delimiter);
      i = found.next;
      if (found.text === undefined) continue;
      const text = found.text;
      if (this.#state === "head") this.#head(text);
      else if (this.#state === "chunk-size") {
        const size = /^([0-9a-f]+)[ \t]*(;.*)?$/i.exec(text)?.[1];
        if (size === undefined) this.#lost = true;
        else if (Number.parseInt(size, 16) === 0) this.#state = "trailer";
        else {
          this.#left = Number.parseInt(size, 16);
          this.#state = "chunk-data";
        }
      } else if (this.#state === "chunk-end") {
        if (text === "") this.#state = "chunk-size";
        else this.#lost = true;
      } else if (text === "") this.#state = "head"; // the blank line after the trailers
    }
  }

  #head(text: string): void {
    const head = text.replace(/^(\r\n)+/, "");
    const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1]);
    if (!status || status === 101) {
      this.#lost = true;
      return;
    }
    if (status < 200) return; // an interim answer; the final one follows
    const method = this.#methods.shift();
    if (method === undefined) {
      this.#lost = true;
      return;
    }
    if (method === "HEAD" || status === 204 || status === 304) return;
    if (/^transfer-encoding:.*\bchunked[ \t]*$/im.test(head)) {
      this.#state = "chunk-size";
      return;
    }
    const length = declaredLength(head);
    if (length === undefined) {
      this.#lost = true; // the body runs to the close
      return;
    }
    this.#left = length;
    if (this.#left > 0) this.#state = "length";
  }

  /** Collects text up to `delimiter`, across chunks; `text` is set once it is found. */
  #until(chunk: Uint8Array, from: number, delimiter: string): { text?: string; next: number } {
    const window = LATIN1.decode(chunk.subarray(from, from + WINDOW));
    const seen = this.#text + window;
    const at = seen.indexOf(delimiter, Math.max(0, this.#text.length - delimiter.length + 1));
    if (at < 0) {
      this.#text = seen;
      if (seen.length > MAX_HEAD) this.#lost = true;
      return { next: from + window.length };
    }
    const next = from + at + delimiter.length - this.#text.length;
    this.#text = "";
    return { text: seen.slice(0, at), next };
  }
}
