/**
 * The command line's grammar: commands, options, environment variables and help texts.
 *
 * @module
 */

import { parseArgs } from "node:util";
import { participantEndpoint } from "../_core/endpoint.ts";
import { AttachmentError } from "../_core/errors.ts";

/** The commands. */
export type CommandName = "upload" | "download" | "list";

/** A command line, understood. */
export interface ParsedCommand {
  /** The command, or `undefined` for the general help. */
  command?: CommandName;
  /** Whether help was asked for (`--help`, `-h`, `help`). */
  help: boolean;
  /** The command's arguments (the file, the attachment id). */
  positionals: string[];
  /** The ConnectionToken, from `--token` or `CONNECT_CONNECTION_TOKEN`. */
  connectionToken?: string;
  /** The ParticipantToken, from `--participant-token` or `CONNECT_PARTICIPANT_TOKEN`. */
  participantToken?: string;
  /** The endpoint, from `--endpoint` or `CONNECT_ENDPOINT`. */
  endpoint?: string;
  /** The region, from `--region`, `CONNECT_REGION` or `AWS_REGION`. */
  region?: string;
  /** `upload --name`. */
  name?: string;
  /** `upload --type`. */
  contentType?: string;
  /** `upload --wait`: seconds to wait for the chat's attachment scanner. */
  wait?: number;
  /** `download -o`. */
  output?: string;
  /** `download --force`. */
  force: boolean;
  /** `--json`. */
  json: boolean;
  /** `--quiet`. */
  quiet: boolean;
}

/** A command line that makes no sense: code `usage`, exit code 2. */
export class UsageError extends AttachmentError {
  /** The command it is about, for pointing at its help. */
  readonly command?: CommandName;

  /**
   * @param message What is wrong.
   * @param command The command it is about.
   */
  constructor(message: string, command?: CommandName) {
    super("usage", "validate", message);
    this.name = "UsageError";
    this.command = command;
  }
}

const CONNECTION_OPTIONS = `Connection (each option also read from the environment):
  -t, --token TOKEN            ConnectionToken                 [CONNECT_CONNECTION_TOKEN]
      --participant-token TOK  ParticipantToken: connect first [CONNECT_PARTICIPANT_TOKEN]
      --endpoint URL           Participant Service URL         [CONNECT_ENDPOINT]
      --region REGION          AWS region, e.g. us-east-1      [CONNECT_REGION, AWS_REGION]
Output:
      --json                   machine-readable output on stdout
  -q, --quiet                  no progress bar (it is only drawn when stderr is a terminal)
  -h, --help                   this help`;

const EXIT_CODES_HELP = `Exit codes:
  0 done   2 usage error   3 input refused (file, type, size, name, scanner, existing output)
  4 service or auth failure (token, throttling, network)   5 transfer failed (S3)
  130 interrupted`;

/** The help text of each command, and the general one under `""`. */
export const HELP: Readonly<Record<CommandName | "", string>> = {
  "": `connect-attachments: files in and out of an Amazon Connect chat

Usage:
  cli.ts upload <file> [options]          send a file into the chat
  cli.ts download <attachmentId> [-o f]   save an attachment
  cli.ts list [options]                   list the chat's attachments
  cli.ts <command> --help                 help on a command

Tokens are secrets: prefer the environment variables to options (options show in ps).

${CONNECTION_OPTIONS}

${EXIT_CODES_HELP}
`,
  upload: `Usage: cli.ts upload <file> [options]

Sends a file into the chat: checks its name, size (up to 100 MB) and extension first, then
uploads it with a progress bar and completes it; the instance's own size limit and
extensions are the service's to apply. Prints the attachment id and the scanner's status
(APPROVED, IN_PROGRESS; a rejected file fails with exit code 3).

Options:
      --name NAME              the name shown in the chat (default: the file's name)
      --type MIME              the MIME type (default: from the extension, else
                               application/octet-stream)
      --wait SECONDS           wait up to SECONDS for the chat's attachment scanner
${CONNECTION_OPTIONS}

${EXIT_CODES_HELP}
`,
  download: `Usage: cli.ts download <attachmentId> [options]

Saves an attachment of the chat.

Options:
  -o, --output PATH            where to save it; - for stdout (default: its name, here)
      --force                  overwrite an existing file
${CONNECTION_OPTIONS}

${EXIT_CODES_HELP}
`,
  list: `Usage: cli.ts list [options]

Lists the chat's attachments, oldest first: id, scan status, type and name.

${CONNECTION_OPTIONS}

${EXIT_CODES_HELP}
`,
};

const COMMON = {
  token: { type: "string", short: "t" },
  "participant-token": { type: "string" },
  endpoint: { type: "string" },
  region: { type: "string" },
  json: { type: "boolean" },
  quiet: { type: "boolean", short: "q" },
  help: { type: "boolean", short: "h" },
} as const;

const OPTIONS = {
  upload: {
    ...COMMON,
    name: { type: "string" },
    type: { type: "string" },
    wait: { type: "string" },
  },
  download: { ...COMMON, output: { type: "string", short: "o" }, force: { type: "boolean" } },
  list: COMMON,
} as const;

const ARITY: Record<CommandName, { args: number; what: string }> = {
  upload: { args: 1, what: "a file" },
  download: { args: 1, what: "an attachment id" },
  list: { args: 0, what: "" },
};

/**
 * Understands a command line.
 *
 * @param args The arguments after the script.
 * @param env Reads an environment variable.
 * @returns The command and its settings.
 * @throws {UsageError} When the line makes no sense.
 */
export function parseCommandLine(
  args: string[],
  env: (name: string) => string | undefined,
): ParsedCommand {
  const [first, ...rest] = args;
  if (first === undefined) throw new UsageError("no command given");
  if (first === "--help" || first === "-h" || first === "help") {
    const topic = rest[0];
    if (topic !== undefined && !isCommand(topic)) throw new UsageError(`no command ${topic}`);
    return { ...defaults(), command: topic as CommandName | undefined, help: true };
  }
  if (!isCommand(first)) {
    throw new UsageError(
      first.startsWith("-") ? `expected a command before ${first}` : `no command ${first}`,
    );
  }
  const command = first;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest,
      options: OPTIONS[command],
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  const text = (key: string) => {
    const value = values[key];
    if (value === "") throw new UsageError(`--${key} needs a value`, command);
    return value as string | undefined;
  };
  const result: ParsedCommand = {
    command,
    help: values.help === true,
    positionals: parsed.positionals,
    connectionToken: text("token") ?? nonEmpty(env("CONNECT_CONNECTION_TOKEN")),
    participantToken: text("participant-token") ?? nonEmpty(env("CONNECT_PARTICIPANT_TOKEN")),
    endpoint: text("endpoint") ?? nonEmpty(env("CONNECT_ENDPOINT")),
    region: text("region") ?? nonEmpty(env("CONNECT_REGION")) ?? nonEmpty(env("AWS_REGION")),
    name: text("name"),
    contentType: text("type"),
    wait: seconds(text("wait"), command),
    output: text("output"),
    force: values.force === true,
    json: values.json === true,
    quiet: values.quiet === true,
  };
  if (result.help) return result;

  const { args: wanted, what } = ARITY[command];
  if (result.positionals.length < wanted) throw new UsageError(`give ${what}`, command);
  if (result.positionals.length > wanted) {
    throw new UsageError(`unexpected argument ${result.positionals[wanted]}`, command);
  }
  if (!result.connectionToken && !result.participantToken) {
    throw new UsageError(
      "give a token: set CONNECT_CONNECTION_TOKEN (or --token), or CONNECT_PARTICIPANT_TOKEN " +
        "(or --participant-token) to connect first",
      command,
    );
  }
  if (result.endpoint === undefined && result.region === undefined) {
    throw new UsageError("give --endpoint URL or --region REGION", command);
  }
  try {
    participantEndpoint({ endpoint: result.endpoint, region: result.region });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error), command);
  }
  if (result.output === "-" && result.json) {
    throw new UsageError("-o - writes the file to stdout; it cannot go with --json", command);
  }
  return result;
}

/** `--wait`'s value: a whole number of seconds. */
function seconds(value: string | undefined, command: CommandName): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,6}$/.test(value)) {
    throw new UsageError(`--wait takes a whole number of seconds, not ${value}`, command);
  }
  return Number(value);
}

function isCommand(value: string): value is CommandName {
  return value === "upload" || value === "download" || value === "list";
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value === "" ? undefined : value;
}

function defaults(): ParsedCommand {
  return { help: false, positionals: [], force: false, json: false, quiet: false };
}
