/**
 * Per-instance attachment settings, as Amazon Connect keeps them
 * (`UpdateAttachedFilesConfiguration` / `DescribeAttachedFilesConfiguration`), and the rule
 * StartAttachmentUpload applies with them: the size limit and the allowed extensions of the
 * chat's instance, or Amazon Connect's defaults where nobody configured it.
 *
 * @module
 */

/** The scopes Amazon Connect keeps attachment settings for. */
export const ATTACHMENT_SCOPES = ["EMAIL", "CHAT", "CASE", "TASK"] as const;

/** One of {@link ATTACHMENT_SCOPES}. */
export type AttachmentScope = (typeof ATTACHMENT_SCOPES)[number];

/** The largest `MaximumSizeLimitInBytes` the model allows: 100 MB. */
export const MAX_CONFIGURABLE_BYTES = 104_857_600;

/** The size limit of a chat attachment on an instance nobody configured: 20 MB. */
export const DEFAULT_CHAT_MAX_BYTES = 20_971_520;

/** The extensions a chat accepts on an instance nobody configured (Amazon Connect's 18). */
export const DEFAULT_CHAT_EXTENSIONS: readonly string[] = Object.freeze([
  "csv",
  "doc",
  "docx",
  "heic",
  "jfif",
  "jpeg",
  "jpg",
  "mov",
  "mp4",
  "pdf",
  "png",
  "ppt",
  "pptx",
  "rtf",
  "txt",
  "wav",
  "xls",
  "xlsx",
]);

/** The attachment settings of one instance and scope. */
export interface AttachedFilesConfiguration {
  instanceId: string;
  scope: AttachmentScope;
  /** The largest attachment accepted, in bytes. */
  maxBytes: number;
  /** The extensions accepted, without dots, as configured. */
  extensions: readonly string[];
  /** When it was last updated; absent while the defaults apply. */
  lastModified?: Date;
}

/** What an update changes; members left out keep their value. */
export interface AttachedFilesUpdate {
  maxBytes?: number;
  extensions?: readonly string[];
}

/**
 * The attachment settings of every instance the local service knows.
 *
 * @example
 * ```ts ignore
 * const settings = new InstanceSettings();
 * settings.update("instance-1", "CHAT", { maxBytes: 1024, extensions: ["txt"] });
 * settings.attachmentProblem("instance-1", "a.pdf", 10); // "... extension .pdf ..."
 * ```
 */
export class InstanceSettings {
  readonly #configured = new Map<string, AttachedFilesConfiguration>();
  readonly #defaultMaxBytes: number;

  /**
   * @param defaultMaxBytes The size limit where nobody configured one (the local stack's
   * `MAX_ATTACHMENT_BYTES`). @default {DEFAULT_CHAT_MAX_BYTES}
   */
  constructor(defaultMaxBytes: number = DEFAULT_CHAT_MAX_BYTES) {
    this.#defaultMaxBytes = defaultMaxBytes;
  }

  /**
   * The settings of an instance and scope: its configuration, or the defaults.
   * @param instanceId The instance.
   * @param scope The scope.
   */
  get(instanceId: string, scope: AttachmentScope): AttachedFilesConfiguration {
    return this.#configured.get(`${instanceId}/${scope}`) ?? {
      instanceId,
      scope,
      maxBytes: this.#defaultMaxBytes,
      extensions: DEFAULT_CHAT_EXTENSIONS,
    };
  }

  /**
   * Creates or changes the settings of an instance and scope (a partial update).
   * @param instanceId The instance.
   * @param scope The scope.
   * @param update What changes.
   * @returns The settings now in force.
   */
  update(
    instanceId: string,
    scope: AttachmentScope,
    update: AttachedFilesUpdate,
  ): AttachedFilesConfiguration {
    const current = this.get(instanceId, scope);
    const next: AttachedFilesConfiguration = {
      instanceId,
      scope,
      maxBytes: update.maxBytes ?? current.maxBytes,
      extensions: update.extensions ? [...update.extensions] : current.extensions,
      lastModified: new Date(),
    };
    this.#configured.set(`${instanceId}/${scope}`, next);
    return next;
  }

  /**
   * Why a chat attachment is refused under its instance's settings, or `undefined` when it is
   * accepted: an extension that is not allowed (compared without case, after the name's
   * surrounding white space), or a size over the limit.
   *
   * @param instanceId The chat's instance.
   * @param name The attachment's name.
   * @param size Its size in bytes.
   * @returns A message for a ValidationException, or `undefined`.
   */
  attachmentProblem(instanceId: string, name: string, size: number): string | undefined {
    const { maxBytes, extensions } = this.get(instanceId, "CHAT");
    const trimmed = name.trim();
    const dot = trimmed.lastIndexOf(".");
    const extension = dot < 0 ? "" : trimmed.slice(dot + 1).toLowerCase();
    if (!extensions.some((allowed) => allowed.toLowerCase() === extension)) {
      return `${
        extension ? `The extension .${extension}` : "A name without an extension"
      } is not allowed for chat attachments on this instance; allowed: ${
        extensions.map((e) => "." + e).join(" ")
      }`;
    }
    if (size > maxBytes) {
      return `The attachment is ${size} bytes; this instance accepts at most ${maxBytes} bytes`;
    }
    return undefined;
  }
}
