/**
 * Amazon Connect chat's default attachment limits, as its feature specifications state them:
 * test data the product is held to, never read from the product itself.
 *
 * @module
 */

/** The largest chat attachment by default: 20 MB. */
export const DEFAULT_MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

/** The largest `MaximumSizeLimitInBytes` an instance can be given: 100 MB. */
export const CONNECT_MAX_ATTACHMENT_BYTES = 104_857_600;

/** The types Amazon Connect chat accepts, one per extension, as the S3 PUT carries them. */
export const ACCEPTED_TYPES: readonly string[] = [
  "text/csv",
  "application/msword",
  "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  "image/heic",
  "image/jpeg",
  "video/quicktime",
  "video/mp4",
  "application/pdf",
  "image/png",
  "application/vnd.ms-powerpoint",
  "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  "application/rtf",
  "text/plain",
  "audio/wav",
  "application/vnd.ms-excel",
  "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
];

/**
 * The aliases of those types that are accepted too (`Content-Type` values browsers and AWS's
 * own chat widget send).
 */
export const ACCEPTED_TYPE_ALIASES: readonly string[] = [
  "audio/x-wav",
  "audio/wave",
  "audio/vnd.wave",
  "text/rtf",
  "application/x-rtf",
  "text/richtext",
];
