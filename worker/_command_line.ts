/**
 * The command line of the project's Deno commands (`deno task worker:deno`, `build`, `start`,
 * `bench`, `soak`): `--help` prints the usage and exits 0; an unknown option or a bad value
 * prints the error, the usage line and a hint, and exits 2. No stack trace for a typing slip.
 * (The CLI in `src/` has its own parser.)
 *
 * @module
 */

import { parseArgs, type ParseArgsOptionsConfig } from "node:util";

/** A mistake on the command line (or in a variable that stands for an option): exit code 2. */
export class UsageError extends Error {}

/**
 * Parses a command's arguments strictly; `--help` (or `-h`) is added to the options. Prints the
 * usage and exits 0 for `--help`; prints the error and the usage line and exits 2 for an
 * unknown option, a missing value or an unexpected positional argument.
 *
 * @param args The arguments, such as `Deno.args`.
 * @param usage The usage text; its first line is the usage line (`Usage: deno task ...`).
 * @param options The options, as `node:util`'s `parseArgs` takes them.
 * @param allowPositionals Whether arguments other than options are allowed.
 * @returns The values and the positional arguments.
 *
 * @example
 * ```ts ignore
 * import { parseCommandLine } from "./_command_line.ts";
 * const { values } = parseCommandLine(Deno.args, "Usage: deno task x [--fast]", {
 *   fast: { type: "boolean", default: false },
 * });
 * ```
 */
export function parseCommandLine<T extends ParseArgsOptionsConfig>(
  args: string[],
  usage: string,
  options: T,
  allowPositionals = false,
): ReturnType<typeof parseArgs<{ options: T; allowPositionals: boolean }>> {
  if (args.includes("--help") || args.includes("-h")) {
    console.log(usage);
    Deno.exit(0);
  }
  try {
    return parseArgs({ args, options, allowPositionals, strict: true });
  } catch (error) {
    return exitWithUsage(usage, error instanceof Error ? error.message : String(error));
  }
}

/**
 * Prints a usage error (the message, the usage line, a hint) on stderr and exits 2.
 *
 * @param usage The command's usage text.
 * @param message What was wrong.
 *
 * @example
 * ```ts ignore
 * import { exitWithUsage } from "./_command_line.ts";
 * exitWithUsage(USAGE, "--port must be a number");
 * ```
 */
export function exitWithUsage(usage: string, message: string): never {
  console.error(`error: ${message}\n${usage.split("\n")[0]}\nRun with --help for the options.`);
  Deno.exit(2);
}
