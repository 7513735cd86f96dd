/**
 * The rules the upload worker applies to a file before anything goes upstream: its name, its
 * size and its type. The worker and the browser client share them, so that a browser can
 * refuse a file up front with the very code and message the worker would answer with.
 *
 * @module
 */

import { ATTACHMENT_TYPES, contentTypeForName, mimeEssence, nameProblem } from "./limits.ts";

/** Content types that say nothing about a file: its name's extension decides instead. */
export const UNTYPED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "",
  "application/octet-stream",
  "application/x-www-form-urlencoded",
]);

/** What is known of a file before its bytes are sent. */
export interface UploadFacts {
  /** The attachment name. */
  name: string;
  /** The declared type (`Content-Type`, `File.type`); empty or generic means "infer it". */
  contentType?: string;
  /** The size in bytes. */
  size: number;
}

/** The worker's limits. */
export interface UploadRuleLimits {
  /** The largest attachment, in bytes. */
  maxBytes: number;
  /** The MIME types accepted. */
  allowedTypes: ReadonlySet<string> | readonly string[];
}

/** A file refused by the rules: the worker's stable code and its message. */
export interface UploadRefusal {
  /** `invalid_name`, `empty`, `too_large` or `unsupported_type`. */
  code: "invalid_name" | "empty" | "too_large" | "unsupported_type";
  /** What is wrong and how to fix it. */
  message: string;
}

/**
 * The MIME type an upload is recorded with: the declared one, unless it is missing or
 * generic, in which case the one that goes with the name's extension.
 *
 * @param name The attachment name.
 * @param contentType The declared type, if any.
 * @returns The type, or `undefined` when neither the declaration nor the name tells it.
 *
 * @example
 * ```ts
 * import { resolveContentType } from "./upload_rules.ts";
 * resolveContentType("notes.txt", ""); // "text/plain"
 * resolveContentType("scan", "application/octet-stream"); // undefined
 * ```
 */
export function resolveContentType(name: string, contentType = ""): string | undefined {
  const given = mimeEssence(contentType);
  return UNTYPED_CONTENT_TYPES.has(given) ? contentTypeForName(name) : given;
}

/**
 * The extensions whose types are allowed, such as `.pdf .png`.
 *
 * @param allowedTypes The MIME types accepted.
 * @returns The extensions, space-separated.
 *
 * @example
 * ```ts
 * import { acceptedExtensions } from "./upload_rules.ts";
 * acceptedExtensions(["application/pdf", "image/jpeg"]); // ".jfif .jpeg .jpg .pdf"
 * ```
 */
export function acceptedExtensions(allowedTypes: ReadonlySet<string> | readonly string[]): string {
  const allowed = new Set(allowedTypes);
  return Object.entries(ATTACHMENT_TYPES).filter(([, type]) => allowed.has(type))
    .map(([extension]) => "." + extension).join(" ");
}

/**
 * Checks a file against the worker's rules, in the worker's order: name, emptiness, size,
 * extension, type. Amazon Connect accepts files by extension and by type: the name must end
 * in an accepted extension, and the type (declared, or else the extension's) must be
 * accepted too.
 *
 * @param facts The name, declared type and size.
 * @param limits The worker's size limit and accepted types.
 * @returns The refusal, or `undefined` when the worker would send the file on.
 *
 * @example
 * ```ts
 * import { uploadRefusal } from "./upload_rules.ts";
 * const refusal = uploadRefusal(
 *   { name: "big.pdf", contentType: "application/pdf", size: 30_000_000 },
 *   { maxBytes: 20_971_520, allowedTypes: ["application/pdf"] },
 * );
 * console.log(refusal?.code); // "too_large"
 * ```
 */
export function uploadRefusal(
  facts: UploadFacts,
  limits: UploadRuleLimits,
): UploadRefusal | undefined {
  const badName = nameProblem(facts.name);
  if (badName) return { code: "invalid_name", message: badName };
  if (facts.size === 0) {
    return { code: "empty", message: "the file is empty; attachments need at least 1 byte" };
  }
  if (facts.size > limits.maxBytes) {
    return {
      code: "too_large",
      message: `the file is ${facts.size} bytes; the limit is ${limits.maxBytes} bytes`,
    };
  }
  const allowed = new Set(limits.allowedTypes);
  const byName = contentTypeForName(facts.name);
  if (byName === undefined || !allowed.has(byName)) {
    return {
      code: "unsupported_type",
      message: `${JSON.stringify(facts.name)} does not end in an accepted extension; accepted: ${
        acceptedExtensions(allowed)
      }`,
    };
  }
  const contentType = resolveContentType(facts.name, facts.contentType)!;
  if (!allowed.has(contentType)) {
    return {
      code: "unsupported_type",
      message: `${contentType} is not an accepted type; accepted: ${[...allowed].join(", ")}`,
    };
  }
  return undefined;
}
