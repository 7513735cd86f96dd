/**
 * What Amazon Connect accepts as a chat attachment: size, type and name.
 *
 * @module
 */

/** Amazon Connect's limit on a chat attachment's size: 20 MB. */
export const DEFAULT_MAX_ATTACHMENT_BYTES: number = 20 * 1024 * 1024;

/** The longest attachment name the service takes, in characters. */
export const MAX_ATTACHMENT_NAME_LENGTH = 256;

/** The file extensions Amazon Connect chat accepts, each with its MIME type. */
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

/** Every MIME type Amazon Connect chat accepts, common aliases included. */
export const ALLOWED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  ...Object.values(ATTACHMENT_TYPES),
  "audio/x-wav",
  "audio/wave",
  "text/rtf",
]);

/**
 * Why an attachment is refused before anything is sent.
 *
 * @example
 * ```ts
 * import type { AttachmentProblemCode } from "./limits.ts";
 * const code: AttachmentProblemCode = "too_large";
 * ```
 */
export type AttachmentProblemCode =
  | "invalid_name"
  | "unsupported_type"
  | "too_large"
  | "empty";

/** An attachment refused before anything is sent: a stable code and a message for people. */
export interface AttachmentProblem {
  /** The machine-readable reason. */
  code: AttachmentProblemCode;
  /** What is wrong and how to fix it. */
  message: string;
}

/** What {@link checkAttachment} looks at. */
export interface AttachmentFacts {
  /** The file name as the chat will show it. */
  name: string;
  /** The MIME type; parameters such as `; charset=utf-8` are ignored. */
  contentType: string;
  /** The exact size in bytes. */
  size: number;
  /**
   * The largest size allowed.
   * @default {DEFAULT_MAX_ATTACHMENT_BYTES}
   */
  maxBytes?: number;
  /**
   * The MIME types allowed.
   * @default {ALLOWED_CONTENT_TYPES}
   */
  allowedTypes?: ReadonlySet<string>;
}

/**
 * Returns the MIME type that goes with a file name's extension, if Amazon Connect accepts it.
 *
 * @param name A file name such as `report.PDF`.
 * @returns The MIME type, or `undefined` for an unknown or missing extension.
 *
 * @example
 * ```ts
 * import { contentTypeForName } from "./limits.ts";
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
 * import { mimeEssence } from "./limits.ts";
 * mimeEssence("Text/Plain; charset=utf-8"); // "text/plain"
 * ```
 */
export function mimeEssence(contentType: string): string {
  return contentType.split(";", 1)[0].trim().toLowerCase();
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
 * import { nameProblem } from "./limits.ts";
 * nameProblem("a/b.pdf"); // "the name must not contain / or \\"
 * nameProblem("report.pdf"); // undefined
 * ```
 */
export function nameProblem(name: string): string | undefined {
  const length = [...name].length;
  if (length === 0 || name.trim().length === 0) return "the name must not be empty";
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

/**
 * Checks an attachment against Amazon Connect's limits before any network call.
 *
 * @param facts The name, type and size, and the limits to apply.
 * @returns The first problem found, or `undefined` when the attachment is acceptable.
 *
 * @example
 * ```ts
 * import { checkAttachment } from "./limits.ts";
 * checkAttachment({ name: "a.exe", contentType: "application/x-msdownload", size: 10 })?.code;
 * // "unsupported_type"
 * ```
 */
export function checkAttachment(facts: AttachmentFacts): AttachmentProblem | undefined {
  const { maxBytes = DEFAULT_MAX_ATTACHMENT_BYTES, allowedTypes = ALLOWED_CONTENT_TYPES } = facts;
  const badName = nameProblem(facts.name);
  if (badName) return { code: "invalid_name", message: badName };
  const type = mimeEssence(facts.contentType);
  if (!allowedTypes.has(type)) {
    return {
      code: "unsupported_type",
      message: `${JSON.stringify(type)} is not a type Amazon Connect chat accepts; allowed: ${
        Object.keys(ATTACHMENT_TYPES).map((ext) => "." + ext).join(" ")
      }`,
    };
  }
  if (!Number.isSafeInteger(facts.size) || facts.size < 1) {
    return { code: "empty", message: "the file is empty; attachments need at least 1 byte" };
  }
  if (facts.size > maxBytes) {
    return {
      code: "too_large",
      message: `the file is ${facts.size} bytes; the limit is ${maxBytes} bytes`,
    };
  }
  return undefined;
}
