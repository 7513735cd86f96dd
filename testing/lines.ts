/**
 * Reading a child process's output line by line.
 *
 * @module
 */

/**
 * Splits a byte stream into text lines (without their line endings).
 *
 * @param stream Bytes, such as a child process's `stdout`.
 * @returns The lines, as they arrive; the last one even without a final newline.
 *
 * @example
 * ```ts ignore
 * import { textLines } from "./lines.ts";
 * const child = new Deno.Command("ls", { stdout: "piped" }).spawn();
 * for await (const line of textLines(child.stdout)) console.log(line);
 * ```
 */
export async function* textLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  let buffered = "";
  // A TextDecoder rather than a TextDecoderStream: the latter's types differ between Deno's
  // and the DOM's libraries, and browser code shares the type-checked program.
  const decoder = new TextDecoder();
  for await (const bytes of stream) {
    buffered += decoder.decode(bytes, { stream: true });
    let newline;
    while ((newline = buffered.indexOf("\n")) >= 0) {
      yield buffered.slice(0, newline).replace(/\r$/, "");
      buffered = buffered.slice(newline + 1);
    }
  }
  buffered += decoder.decode();
  if (buffered) yield buffered;
}
