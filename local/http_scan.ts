/**
 * Finds where HTTP/1.1 requests begin and end in a byte stream, without buffering bodies: the
 * local proxy uses it to record request heads and to strike single requests on a kept-alive
 * connection.
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
      const length = /^content-length:[ \t]*(\d+)[ \t]*$/im.exec(head)?.[1];
      this.#bodyLeft = length ? Number(length) : 0;
    }
    return heads;
  }
}
