/**
 * The rules an attachment must pass before anything is sent: its name, its size, its extension
 * and its type, checked in that one order with one set of messages, by the library, the
 * command line, the browser client and the worker alike.
 *
 * By default they hold a file only to what every Amazon Connect instance requires (a usable
 * name, 1 to 104,857,600 bytes, an extension of 1 to 10 letters, digits, `-` or `_`, a
 * well-formed media type) and leave the rest to the instance: StartAttachmentUpload refuses
 * what the instance's own settings do not allow. A {@link AttachmentPolicy} (the largest size,
 * the accepted types and extensions) is data handed to {@link checkAttachment}, to refuse
 * early what a deployment never wants to send.
 *
 * @module
 */

import type { AttachmentProblemCode } from "./errors.ts";

/**
 * Amazon Connect's bound on a chat attachment: 104,857,600 bytes (100 MB), the largest
 * `MaximumSizeLimitInBytes` an instance can be given.
 */
export const CONNECT_MAX_ATTACHMENT_BYTES = 104_857_600;

/** The longest attachment name the service takes, in characters. */
export const MAX_ATTACHMENT_NAME_LENGTH = 256;

/** An extension as Amazon Connect's model allows one: 1 to 10 letters, digits, `-` or `_`. */
const EXTENSION = /^[A-Za-z0-9_-]{1,10}$/;
const EXTENSION_HINT = "such as .pdf: 1 to 10 letters, digits, - or _";

/**
 * The extensions whose MIME type the rules know: Amazon Connect chat's 18 defaults, and other
 * common files an instance may be set to allow. Every type here is inert (no markup, no
 * script): a download may be labelled with it.
 */
export const ATTACHMENT_TYPES: Readonly<Record<string, string>> = Object.freeze({
  // Amazon Connect chat's defaults.
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
  // Others an instance may allow.
  gif: "image/gif",
  zip: "application/zip",
});

/**
 * Other names of those types, each with the type it stands for: what browsers and AWS's own
 * chat widget send (`audio/vnd.wave`, `application/x-rtf`, `text/richtext`, ...).
 */
export const TYPE_ALIASES: Readonly<Record<string, string>> = Object.freeze({
  "audio/x-wav": "audio/wav",
  "audio/wave": "audio/wav",
  "audio/vnd.wave": "audio/wav",
  "text/rtf": "application/rtf",
  "application/x-rtf": "application/rtf",
  "text/richtext": "application/rtf",
  "application/x-zip-compressed": "application/zip",
});

/** Every MIME type the rules know an extension for, aliases included. */
export const KNOWN_CONTENT_TYPES: ReadonlySet<string> = new Set([
  ...Object.values(ATTACHMENT_TYPES),
  ...Object.keys(TYPE_ALIASES),
]);

/** Content types that say nothing about a file: its name's extension decides instead. */
export const UNTYPED_CONTENT_TYPES: ReadonlySet<string> = new Set([
  "",
  "application/octet-stream",
  "application/x-www-form-urlencoded",
]);

/**
 * What the rules allow beyond what every instance requires: the data that
 * {@link checkAttachment} applies. Left out, a member leaves the decision to the instance.
 *
 * @example
 * ```ts
 * import type { AttachmentPolicy } from "./rules.ts";
 * const pdfsUpTo5MB: AttachmentPolicy = { maxBytes: 5e6, allowedTypes: ["application/pdf"] };
 * const zipsToo: AttachmentPolicy = { allowedTypes: ["pdf", "zip"] };
 * ```
 */
export interface AttachmentPolicy {
  /** The largest attachment, in bytes. @default {CONNECT_MAX_ATTACHMENT_BYTES} */
  maxBytes?: number;
  /**
   * The MIME types and extensions accepted (`application/pdf`, `pdf`, `.zip`): a name must
   * end in one of the extensions (or one of a listed type's), and a declared type must be a
   * listed one (or a listed extension's). @default {any: the instance decides}
   */
  allowedTypes?: ReadonlySet<string> | readonly string[];
}

/** The policy of a caller that sets none: Amazon Connect's bounds, the instance decides. */
export const DEFAULT_ATTACHMENT_POLICY: Readonly<AttachmentPolicy> = Object.freeze({
  maxBytes: CONNECT_MAX_ATTACHMENT_BYTES,
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
 * Returns a name's extension, lower-case and without its dot, where it is one Amazon Connect
 * can allow (1 to 10 letters, digits, `-` or `_` after the last dot).
 *
 * @param name A file name such as `report.PDF`.
 * @returns The extension, or `undefined` for none or a malformed one.
 *
 * @example
 * ```ts
 * import { extensionOf } from "./rules.ts";
 * extensionOf("Report.PDF"); // "pdf"
 * extensionOf("notes"); // undefined
 * ```
 */
export function extensionOf(name: string): string | undefined {
  const dot = name.lastIndexOf(".");
  const extension = dot < 0 ? "" : name.slice(dot + 1);
  return EXTENSION.test(extension) ? extension.toLowerCase() : undefined;
}

/**
 * Returns the MIME type that goes with a file name's extension, among those the rules know.
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
  const extension = extensionOf(name);
  return extension === undefined ? undefined : ATTACHMENT_TYPES[extension];
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
 * generic, in which case the one that goes with the name's extension, else
 * `application/octet-stream`.
 *
 * @param name The attachment name.
 * @param contentType The declared type, if any.
 * @returns The type.
 *
 * @example
 * ```ts
 * import { resolveContentType } from "./rules.ts";
 * resolveContentType("notes.txt", ""); // "text/plain"
 * resolveContentType("backup.tar", ""); // "application/octet-stream"
 * ```
 */
export function resolveContentType(name: string, contentType = ""): string {
  const given = mimeEssence(contentType);
  if (!UNTYPED_CONTENT_TYPES.has(given)) return given;
  return contentTypeForName(name) ?? "application/octet-stream";
}

/** A media type's essence (RFC 6838 names: `type/subtype`, no wildcard). */
const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]{0,126}\/[a-z0-9][a-z0-9!#$&^_.+-]{0,126}$/;

/** The type a MIME type stands for: itself, or the one an alias names. */
function canonicalType(type: string): string {
  return TYPE_ALIASES[type] ?? type;
}

/** A policy's `allowedTypes` as the extensions and the (canonical) types they accept. */
interface AllowList {
  extensions: ReadonlySet<string>;
  types: ReadonlySet<string>;
}

function allowListOf(entries: ReadonlySet<string> | readonly string[]): AllowList {
  const extensions = new Set<string>();
  const types = new Set<string>();
  for (const entry of entries) {
    if (entry.includes("/")) {
      const type = canonicalType(mimeEssence(entry));
      types.add(type);
      for (const [extension, known] of Object.entries(ATTACHMENT_TYPES)) {
        if (known === type) extensions.add(extension);
      }
    } else {
      const extension = entry.trim().replace(/^\./, "").toLowerCase();
      extensions.add(extension);
      if (ATTACHMENT_TYPES[extension]) types.add(ATTACHMENT_TYPES[extension]);
    }
  }
  return { extensions, types };
}

/**
 * The extensions a list of types and extensions accepts, such as `.pdf .png`: for a file
 * picker's `accept` attribute or a hint beside it.
 *
 * @param allowedTypes The MIME types and extensions accepted.
 * @returns The extensions, sorted, space-separated.
 *
 * @example
 * ```ts
 * import { acceptedExtensions } from "./rules.ts";
 * acceptedExtensions(["application/pdf", "image/jpeg"]); // ".jfif .jpeg .jpg .pdf"
 * acceptedExtensions(["zip", ".LOG"]); // ".log .zip"
 * ```
 */
export function acceptedExtensions(allowedTypes: ReadonlySet<string> | readonly string[]): string {
  return [...allowListOf(allowedTypes).extensions].sort().map((e) => "." + e).join(" ");
}

/**
 * Why a policy cannot be applied, one line per problem (empty when it can): a `maxBytes` that
 * is not a whole number of bytes, or that is over {@link CONNECT_MAX_ATTACHMENT_BYTES} where
 * the service is Amazon Connect's own (another Participant Service, such as the local stack,
 * sets its own bounds); an `allowedTypes` entry that is neither an extension Amazon Connect can
 * allow nor a MIME type with a known extension.
 *
 * @param policy The policy.
 * @param amazonConnect Whether the Participant Service is Amazon Connect's own (see
 * `isAmazonConnectEndpoint`).
 * @returns The problems, each naming its member.
 *
 * @example
 * ```ts
 * import { policyProblems } from "./rules.ts";
 * policyProblems({ maxBytes: 200_000_000 }, true)[0].member; // "maxBytes"
 * policyProblems({ maxBytes: 1_073_741_824, allowedTypes: ["zip"] }, false); // []
 * ```
 */
export function policyProblems(
  policy: AttachmentPolicy,
  amazonConnect: boolean,
): { member: "maxBytes" | "allowedTypes"; message: string }[] {
  const problems: { member: "maxBytes" | "allowedTypes"; message: string }[] = [];
  const { maxBytes = 1 } = policy;
  const bound = amazonConnect ? CONNECT_MAX_ATTACHMENT_BYTES : Number.MAX_SAFE_INTEGER;
  if (!(Number.isSafeInteger(maxBytes) && maxBytes >= 1 && maxBytes <= bound)) {
    problems.push({
      member: "maxBytes",
      message: `must be a whole number of bytes ${
        amazonConnect ? `from 1 to ${bound} (Amazon Connect's bound)` : "≥ 1"
      }, got ${maxBytes}`,
    });
  }
  for (const entry of policy.allowedTypes ?? []) {
    // An extension, or a MIME type the rules know an extension of.
    if (![...allowListOf([entry]).extensions].some((e) => EXTENSION.test(e))) {
      problems.push({
        member: "allowedTypes",
        message: `${entry} is neither an extension (${EXTENSION_HINT}) nor a known MIME type`,
      });
    }
  }
  return problems;
}

/** Bidirectional formatting characters, and the line and paragraph separators. */
const BIDI_AND_SEPARATORS = /[\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]/;

/**
 * Tells why an attachment name is unusable, or `undefined` when it is fine: empty, longer
 * than 256 characters, holding a path separator, a control character, a bidirectional control
 * or a line or paragraph separator, or ending in white space or a dot.
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
  // File systems drop a trailing dot or space when the file is saved (Windows) and services
  // may trim them before they read the extension: `x.txt  ` would be saved, and perhaps
  // judged, as another name than the one sent.
  if (/[\s.]$/.test(name)) {
    return `the name ${JSON.stringify(name)} ends in white space or a dot; remove them`;
  }
  return undefined;
}

/** What one rule sees: the file, the largest size, and the policy's list (if it has one). */
type Rule = (
  facts: AttachmentFacts,
  maxBytes: number,
  allowed: AllowList | undefined,
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
  function size({ size }, maxBytes) {
    if (size <= maxBytes) return undefined;
    return {
      code: "too_large",
      message: `the file is ${size} bytes; the limit is ${maxBytes} bytes`,
    };
  },
  function extension({ name }, _, allowed) {
    const extension = extensionOf(name);
    if (extension === undefined) {
      return {
        code: "unsupported_type",
        message: `${JSON.stringify(name)} does not end in an extension (${EXTENSION_HINT})`,
      };
    }
    if (!allowed || allowed.extensions.has(extension)) return undefined;
    return {
      code: "unsupported_type",
      message: `${JSON.stringify(name)} does not end in an accepted extension; accepted: ${
        [...allowed.extensions].sort().map((e) => "." + e).join(" ")
      }`,
    };
  },
  function type({ name, contentType }, _, allowed) {
    const type = resolveContentType(name, contentType);
    if (!MEDIA_TYPE.test(type)) {
      return {
        code: "unsupported_type",
        message: `${JSON.stringify(type)} is not a media type such as application/pdf`,
      };
    }
    // An extension listed on its own, whose type the rules do not know, takes any type.
    if (!allowed || allowed.types.has(canonicalType(type)) || !contentTypeForName(name)) {
      return undefined;
    }
    return {
      code: "unsupported_type",
      message: `${type} is not an accepted type; accepted: ${[...allowed.types].join(", ")}`,
    };
  },
];

/**
 * Checks a file against the rules, in their one order: name, emptiness, size, extension, type.
 * Without a list of types, any well-formed extension and media type pass (the instance
 * decides); with one, the name must end in an accepted extension, and the type (declared, or
 * else the extension's) must be accepted too.
 *
 * @param facts The name, declared type and size.
 * @param policy The largest size and the accepted types and extensions.
 * @returns The first problem found, or `undefined` when the file may be sent.
 *
 * @example
 * ```ts
 * import { checkAttachment } from "./rules.ts";
 * checkAttachment({ name: "big.pdf", size: 200_000_000 })?.code; // "too_large"
 * checkAttachment({ name: "backup.zip", size: 10 }); // undefined: the instance decides
 * checkAttachment({ name: "backup.zip", size: 10 }, { allowedTypes: ["pdf"] })?.code; // "unsupported_type"
 * ```
 */
export function checkAttachment(
  facts: AttachmentFacts,
  policy: AttachmentPolicy = DEFAULT_ATTACHMENT_POLICY,
): AttachmentProblem | undefined {
  const maxBytes = policy.maxBytes ?? CONNECT_MAX_ATTACHMENT_BYTES;
  const allowed = policy.allowedTypes ? allowListOf(policy.allowedTypes) : undefined;
  for (const rule of RULES) {
    const problem = rule(facts, maxBytes, allowed);
    if (problem) return problem;
  }
  return undefined;
}
