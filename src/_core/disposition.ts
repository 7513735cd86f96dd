/**
 * `Content-Disposition` for attachments: reading the file name out of one, and writing one
 * that always makes a download.
 *
 * @module
 */

/**
 * The file name in a `Content-Disposition` value: the RFC 8187 `filename*` when present,
 * else `filename`.
 *
 * @param value The header value.
 * @returns The name, or `undefined`.
 *
 * @example
 * ```ts
 * import { dispositionFilename } from "./disposition.ts";
 * dispositionFilename(`attachment; filename="a.pdf"`); // "a.pdf"
 * dispositionFilename("attachment; filename*=UTF-8''%C3%A9t%C3%A9.pdf"); // "été.pdf"
 * ```
 */
export function dispositionFilename(value: string | null): string | undefined {
  if (!value) return undefined;
  const extended = /filename\*\s*=\s*([^']*)'[^']*'([^;\s]+)/i.exec(value);
  if (extended) {
    try {
      return decodeURIComponent(extended[2]);
    } catch {
      // Fall back to the plain name.
    }
  }
  const plain = /filename\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]+))/i.exec(value);
  if (!plain) return undefined;
  return (plain[1] ?? plain[2]).replace(/\\(.)/g, "$1");
}

/**
 * A `Content-Disposition` that makes a download: `attachment`, with the name (when given) as
 * a plain ASCII `filename` (other characters, quotes, backslashes and `%` as `_`) and, where
 * that changed it, the exact name as an RFC 8187 `filename*`. The caller checks the name
 * first; this only encodes it.
 *
 * @param name The file name, or `undefined` for none.
 * @returns The header value.
 *
 * @example
 * ```ts
 * import { attachmentDisposition } from "./disposition.ts";
 * attachmentDisposition("a.pdf"); // 'attachment; filename="a.pdf"'
 * attachmentDisposition("été.pdf"); // `attachment; filename="__t__.pdf"; filename*=UTF-8''%C3%A9t%C3%A9.pdf`
 * ```
 */
export function attachmentDisposition(name?: string): string {
  if (!name) return "attachment";
  const ascii = name.replace(/[^\x20-\x7e]|["\\%]/g, "_");
  const plain = `attachment; filename="${ascii}"`;
  if (ascii === name) return plain;
  // RFC 8187 attr-chars: what encodeURIComponent leaves, less ' ( ) *.
  const encoded = encodeURIComponent(name).replace(
    /['()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
  return `${plain}; filename*=UTF-8''${encoded}`;
}
