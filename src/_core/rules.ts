/**
 * The rules an attachment must pass before anything is sent: its name, its size, its extension
 * and its type, checked in that one order with one set of messages, by the library, the
 * command line, the browser client and the worker alike. What the rules allow (the largest
 * size, the accepted types) is a policy, data handed to {@link checkAttachment}.
 *
 * @module
 */

import type { AttachmentProblemCode } from "./errors.ts";

/** Amazon Connect's default limit on a chat attachment's size: 20 MB. */
export const DEFAULT_MAX_ATTACHMENT_BYTES: number = 20 * 1024 * 1024;

/** The longest attachment name the service takes, in characters. */
export const MAX_ATTACHMENT_NAME_LENGTH = 256;

/** The file extensions Amazon Connect chat accepts by default, each with its MIME type. */
export const ATTACHMENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  csv: "text/csv",
  doc: "application/msword",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  heic: "image/heic",
  jfif: "image/jpeg",
  jpeg: "image/jpeg",
  jpg: "image/jpeg",
  mov: "video/quicktime",
  mp4: "video/mp4",
  pdf: "application/pdf",
  png: "image/png",
  ppt: "application/vnd.ms-powerpoint",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  rtf: "application/rtf",
  txt: "text/plain",
  wav: "audio/wav",
  xls: "application/vnd.ms-excel",
  xlsx: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
});

/** Every MIME type Amazon Connect chat accepts by default, common aliases included. */
export const ALLOWED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  ...Object.values(ATTACHMENT_TYPES),
  "audio/x-wav",
  "audio/wave",
  "text/rtf",
]);

/** Content types that say nothing about a file: its name's extension decides instead. */
export const UNTYPED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "",
  "application/octet-stream",
  "application/x-www-form-urlencoded",
]);

/**
 * What the rules allow: the data that {@link checkAttachment} applies.
 *
 * @example
 * ```ts
 * import type { AttachmentPolicy } from "./rules.ts";
 * const pdfsUpTo5MB: AttachmentPolicy = { maxBytes: 5e6, allowedTypes: ["application/pdf"] };
 * ```
 */
export interface AttachmentPolicy {
  /** The largest attachment, in bytes. */
  maxBytes: number;
  /** The MIME types accepted; a name must end in an extension of one of them. */
  allowedTypes: ReadonlySet<string> | readonly string[];
}

/** Amazon Connect's defaults: 20 MB, the types of {@link ALLOWED_CONTENT_TYPES}. */
export const DEFAULT_ATTACHMENT_POLICY: Readonly<AttachmentPolicy> = Object.freeze({
  maxBytes: DEFAULT_MAX_ATTACHMENT_BYTES,
  allowedTypes: ALLOWED_CONTENT_TYPES,
});

/** What is known of a file before its bytes are sent. */
export interface AttachmentFacts {
  /** The name the chat will show. */
  name: string;
  /** The declared type (`Content-Type`, `File.type`); missing or generic means "infer it". */
  contentType?: string;
  /** The exact size in bytes. */
  size: number;
}

/** A file refused by the rules: a stable code and a message for people. */
export interface AttachmentProblem {
  /** The machine-readable reason. */
  code: AttachmentProblemCode;
  /** What is wrong and how to fix it. */
  message: string;
}

/**
 * Returns the MIME type that goes with a file name's extension, among those Amazon Connect
 * accepts by default.
 *
 * @param name A file name such as `report.PDF`.
 * @returns The MIME type, or `undefined` for an unknown or missing extension.
 *
 * @example
 * ```ts
 * import { contentTypeForName } from "./rules.ts";
 * contentTypeForName("Report.PDF"); // "application/pdf"
 * contentTypeForName("notes"); // undefined
 * ```
 */
export function contentTypeForName(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return undefined;
  return ATTACHMENT_TYPES[name.slice(dot + 1).toLowerCase()];
}

/**
 * Reduces a Content-Type to its lower-case essence: `Text/Plain; charset=utf-8` becomes
 * `text/plain`.
 *
 * @param contentType A Content-Type header value.
 * @returns The bare MIME type.
 *
 * @example
 * ```ts
 * import { mimeEssence } from "./rules.ts";
 * mimeEssence("Text/Plain; charset=utf-8"); // "text/plain"
 * ```
 */
export function mimeEssence(contentType: string): string {
  return contentType.split(";", 1)[0].trim().toLowerCase();
}

/**
 * The MIME type an attachment is sent with: the declared one, unless it is missing or
 * generic, in which case the one that goes with the name's extension.
 *
 * @param name The attachment name.
 * @param contentType The declared type, if any.
 * @returns The type, or `undefined` when neither the declaration nor the name tells it.
 *
 * @example
 * ```ts
 * import { resolveContentType } from "./rules.ts";
 * resolveContentType("notes.txt", ""); // "text/plain"
 * resolveContentType("scan", "application/octet-stream"); // undefined
 * ```
 */
export function resolveContentType(name: string, contentType = ""): string | undefined {
  const given = mimeEssence(contentType);
  return UNTYPED_CONTENT_TYPES.has(given) ? contentTypeForName(name) : given;
}

/**
 * The extensions whose types are allowed, such as `.pdf .png`: for a file picker's `accept`
 * attribute or a hint beside it.
 *
 * @param allowedTypes The MIME types accepted.
 * @returns The extensions, space-separated.
 *
 * @example
 * ```ts
 * import { acceptedExtensions } from "./rules.ts";
 * acceptedExtensions(["application/pdf", "image/jpeg"]); // ".jfif .jpeg .jpg .pdf"
 * ```
 */
export function acceptedExtensions(allowedTypes: ReadonlySet<string> | readonly string[]): string {
  const allowed = new Set(allowedTypes);
  return Object.entries(ATTACHMENT_TYPES).filter(([, type]) => allowed.has(type))
    .map(([extension]) => "." + extension).join(" ");
}

/** Bidirectional formatting characters, and the line and paragraph separators. */
const BIDI_AND_SEPARATORS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/**
 * Tells why an attachment name is unusable, or `undefined` when it is fine: empty, longer
 * than 256 characters, holding a path separator, a control character, a bidirectional control
 * or a line or paragraph separator.
 *
 * @param name The attachment name.
 * @returns A message, or `undefined`.
 *
 * @example
 * ```ts
 * import { nameProblem } from "./rules.ts";
 * nameProblem("a/b.pdf"); // "the name must not contain / or \\"
 * nameProblem("report.pdf"); // undefined
 * ```
 */
export function nameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length === 0 || name.trim().length === 0) {
    return "the name is empty: give one, such as report.pdf";
  }
  if (length > MAX_ATTACHMENT_NAME_LENGTH) {
    return `the name is ${length} characters; at most ${MAX_ATTACHMENT_NAME_LENGTH} are allowed`;
  }
  if (/[/\\]/.test(name)) return "the name must not contain / or \\";
  // deno-lint-ignore no-control-regex
  if (/[\u0000-\u001f\u007f-\u009f]/.test(name)) {
    return "the name must not contain control characters";
  }
  // Bidirectional controls reorder what the agent sees (`invoice<U+202E>fdp.exe` shows as
  // `invoiceexe.pdf`); line and paragraph separators break it across lines. Unicode's
  // security guidance (UTS #39, UTS #55) keeps both out of identifiers.
  if (BIDI_AND_SEPARATORS.test(name)) {
    return "the name must not contain bidirectional controls or line separators (U+202E...)";
  }
  if (name === "." || name === "..") return "the name must not be . or ..";
  return undefined;
}

/** One rule: the problem it finds, if any. */
type Rule = (
  facts: AttachmentFacts,
  allowed: ReadonlySet<string>,
  maxBytes: number,
) => AttachmentProblem | undefined;

/** The rules, in the order they are checked: the first that fails decides. */
const RULES: readonly Rule[] = [
  function name({ name }) {
    const message = nameProblem(name);
    return message === undefined ? undefined : { code: "invalid_name", message };
  },
  function empty({ size }) {
    if (Number.isSafeInteger(size) && size >= 1) return undefined;
    return { code: "empty", message: "the file is empty; attachments need at least 1 byte" };
  },
  function size({ size }, _, maxBytes) {
    if (size <= maxBytes) return undefined;
    return {
      code: "too_large",
      message: `the file is ${size} bytes; the limit is ${maxBytes} bytes`,
    };
  },
  function extension({ name }, allowed) {
    const byName = contentTypeForName(name);
    if (byName !== undefined && allowed.has(byName)) return undefined;
    return {
      code: "unsupported_type",
      message: `${JSON.stringify(name)} does not end in an accepted extension; accepted: ${
        acceptedExtensions(allowed)
      }`,
    };
  },
  function type({ name, contentType }, allowed) {
    // The extension rule came first: the name tells a type when the declaration does not.
    const type = resolveContentType(name, contentType)!;
    if (allowed.has(type)) return undefined;
    return {
      code: "unsupported_type",
      message: `${type} is not an accepted type; accepted: ${[...allowed].join(", ")}`,
    };
  },
];

/**
 * Checks a file against the rules, in their one order: name, emptiness, size, extension, type.
 * Amazon Connect accepts files by extension and by type: the name must end in an accepted
 * extension, and the type (declared, or else the extension's) must be accepted too.
 *
 * @param facts The name, declared type and size.
 * @param policy The largest size and the accepted types.
 * @returns The first problem found, or `undefined` when the file may be sent.
 *
 * @example
 * ```ts
 * import { checkAttachment } from "./rules.ts";
 * checkAttachment({ name: "big.pdf", size: 30_000_000 })?.code; // "too_large"
 * checkAttachment({ name: "setup.exe", size: 0 })?.code; // "empty"
 * ```
 */
export function checkAttachment(
  facts: AttachmentFacts,
  policy: AttachmentPolicy = DEFAULT_ATTACHMENT_POLICY,
): AttachmentProblem | undefined {
  const allowed = new Set(policy.allowedTypes);
  for (const rule of RULES) {
    const problem = rule(facts, allowed, policy.maxBytes);
    if (problem) return problem;
  }
  return undefined;
}
