/**
 * The command line: `upload`, `download` and `list` against a chat, with a progress bar on
 * stderr when it is a terminal, `--json` output and distinct exit codes.
 *
 * ```sh
 * export CONNECT_CONNECTION_TOKEN=...
 * deno run -A https://example.com/connect-attachments/src/cli.ts upload report.pdf --region us-east-1
 * ```
 *
 * @module
 */

import { HELP, parseCommandLine, type ParsedCommand, UsageError } from "./_cli/args.ts";
import { formatBytes, ProgressBar } from "./_cli/progress_bar.ts";
import { connect } from "./_library/connect.ts";
import { downloadAttachment, type DownloadedAttachment } from "./_library/download.ts";
import { AttachmentError, type AttachmentErrorCode } from "./_core/errors.ts";
import { nameProblem } from "./_core/rules.ts";
import type { ProgressListener } from "./_library/progress.ts";
import { listAttachments } from "./_library/transcript.ts";
import { uploadAttachment } from "./_library/upload.ts";

/**
 * The command line's exit codes.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { EXIT_CODES } from "./cli.ts";
 * assert.equal(EXIT_CODES.usage, 2);
 * ```
 */
export const EXIT_CODES: Readonly<{
  ok: 0;
  failed: 1;
  usage: 2;
  refused: 3;
  upstream: 4;
  transfer: 5;
  interrupted: 130;
}> = Object.freeze({
  /** Done. */
  ok: 0,
  /** An unexpected failure (a bug). */
  failed: 1,
  /** The command line makes no sense. */
  usage: 2,
  /** The input was refused: file, name, type, size, the chat's scanner, or an existing output file. */
  refused: 3,
  /** The service failed or said no: token, throttling, quota, network. */
  upstream: 4,
  /** The transfer to or from S3 failed. */
  transfer: 5,
  /** Stopped by Ctrl-C. */
  interrupted: 130,
});

/**
 * Runs the command line and returns its exit code. Output goes to stdout, messages and the
 * progress bar to stderr. Tokens never appear in either.
 *
 * @param args The arguments, such as `["upload", "report.pdf", "--region", "us-east-1"]`.
 * @returns The exit code (see {@link EXIT_CODES}).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { main } from "./cli.ts";
 * assert.equal(await main(["upload", "--help"]), 0);
 * ```
 */
export async function main(args: string[]): Promise<number> {
  let parsed: ParsedCommand;
  try {
    parsed = parseCommandLine(args, readEnv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const command = error.command ? ` ${error.command}` : "";
    writeErr(`error: ${error.message}\nRun with${command} --help for usage.\n`);
    return EXIT_CODES.usage;
  }
  if (parsed.help) {
    writeOut(HELP[parsed.command ?? ""]);
    return EXIT_CODES.ok;
  }

  const secrets = [parsed.connectionToken, parsed.participantToken].filter(
    (s): s is string => !!s,
  );
  const redact = (text: string) => secrets.reduce((t, s) => t.replaceAll(s, "***"), text);
  const controller = new AbortController();
  const onInterrupt = () => controller.abort(new DOMException("interrupted", "AbortError"));
  const listening = addSignalListener(onInterrupt);
  try {
    await run(parsed, controller.signal, redact);
    return EXIT_CODES.ok;
  } catch (error) {
    const { exitCode, code, message } = controller.signal.aborted
      ? { exitCode: EXIT_CODES.interrupted, code: "interrupted", message: "interrupted" }
      : describeFailure(error);
    const suffix = code === "internal" || code === "interrupted" ? "" : ` (${code})`;
    writeErr(redact(`error: ${message}${suffix}\n`));
    if (parsed.json) {
      writeOut(redact(JSON.stringify({ error: { code, message, exitCode } }) + "\n"));
    }
    return exitCode;
  } finally {
    if (listening) Deno.removeSignalListener("SIGINT", onInterrupt);
  }
}

/** What every command runs with: the command line, the service, the token and the output. */
interface Run {
  parsed: ParsedCommand;
  service: { endpoint?: string; region?: string };
  connectionToken: string;
  signal: AbortSignal;
  showProgress: boolean;
  redact: (text: string) => string;
}

async function run(
  parsed: ParsedCommand,
  signal: AbortSignal,
  redact: (text: string) => string,
): Promise<void> {
  const service = { endpoint: parsed.endpoint, region: parsed.region };
  const connectionToken = parsed.connectionToken ??
    (await connect({ ...service, participantToken: parsed.participantToken!, signal }))
      .connectionToken;
  const showProgress = !parsed.quiet && Deno.stderr.isTerminal();
  const context: Run = { parsed, service, connectionToken, signal, showProgress, redact };
  if (parsed.command === "upload") return await runUpload(context);
  if (parsed.command === "list") return await runList(context);
  return await runDownload(context);
}

async function runUpload({ parsed, service, connectionToken, signal, showProgress }: Run) {
  const path = parsed.positionals[0];
  const progress = showProgress ? progressBar(parsed.name ?? baseName(path)) : undefined;
  try {
    const sent = await uploadAttachment({
      ...service,
      connectionToken,
      file: path,
      name: parsed.name,
      contentType: parsed.contentType,
      signal,
      onProgress: progress?.listener,
      waitForScan: parsed.wait,
    });
    progress?.bar?.finish();
    writeOut(
      parsed.json
        ? JSON.stringify(sent) + "\n"
        : `${sent.attachmentId}\t${sent.status ?? "-"}\tuploaded ${sent.name} (${
          formatBytes(sent.size)
        }, ${sent.contentType})\n`,
    );
  } finally {
    progress?.bar?.abort();
  }
}

async function runList({ parsed, service, connectionToken, signal }: Run) {
  const attachments = await listAttachments({ ...service, connectionToken, signal });
  if (parsed.json) {
    writeOut(JSON.stringify(attachments) + "\n");
    return;
  }
  for (const a of attachments) {
    writeOut(`${a.attachmentId}\t${a.status ?? "-"}\t${a.contentType}\t${a.name}\n`);
  }
}

async function runDownload(context: Run) {
  const { parsed, service, connectionToken, signal, showProgress, redact } = context;
  const attachmentId = parsed.positionals[0];
  const toStdout = parsed.output === "-";
  if (toStdout && Deno.stdout.isTerminal()) {
    throw new UsageError("stdout is a terminal: give -o FILE to save the attachment");
  }
  const relay: { to?: ProgressListener } = {};
  const download = await downloadAttachment({
    ...service,
    connectionToken,
    attachmentId,
    signal,
    onProgress: (progress) => relay.to?.(progress),
  });
  const shownName = download.name && !nameProblem(download.name) ? download.name : attachmentId;
  const progress = showProgress ? progressBar(shownName) : undefined;
  relay.to = progress?.listener;
  relay.to?.({ loaded: 0, total: download.size });
  try {
    if (toStdout) {
      await save(download, Deno.stdout.writable, { preventClose: true, signal });
      progress?.bar?.finish();
      return;
    }
    const path = parsed.output ?? shownName;
    await saveToFile(download, path, parsed.force, signal);
    progress?.bar?.finish();
    writeOut(
      parsed.json
        ? JSON.stringify({
          attachmentId,
          path,
          name: download.name,
          contentType: download.contentType,
          size: download.size,
        }) + "\n"
        : redact(`saved ${path} (${formatBytes(download.size)})\n`),
    );
  } finally {
    progress?.bar?.abort();
  }
}

/** Pipes a download to its target; a body that breaks off is `download_failed`. */
async function save(
  download: DownloadedAttachment,
  target: WritableStream<Uint8Array>,
  options: { preventClose: boolean; signal: AbortSignal },
): Promise<void> {
  try {
    await download.body.pipeTo(target, options);
  } catch (error) {
    if (options.signal.aborted) throw error;
    throw new AttachmentError(
      "download_failed",
      "download",
      `the download broke off: ${error instanceof Error ? error.message : String(error)}`,
      { attachmentId: download.attachmentId, cause: error },
    );
  }
}

/** Saves a download as a new file (or over one, with `force`); a failed save leaves none. */
async function saveToFile(
  download: DownloadedAttachment,
  path: string,
  force: boolean,
  signal: AbortSignal,
): Promise<void> {
  const file = await createOutput(path, force, () => download.body.cancel());
  try {
    await save(download, file.writable, { preventClose: false, signal });
  } catch (error) {
    try {
      file.close();
    } catch {
      // Closed by the failed pipe.
    }
    await Deno.remove(path).catch(() => {});
    throw error;
  }
}

async function createOutput(
  path: string,
  force: boolean,
  cancel: () => Promise<void>,
): Promise<Deno.FsFile> {
  try {
    return await Deno.open(path, {
      write: true,
      create: true,
      truncate: force,
      createNew: !force,
    });
  } catch (error) {
    await cancel().catch(() => {});
    if (error instanceof Deno.errors.AlreadyExists) {
      throw new AttachmentError(
        "output_exists",
        "download",
        `${path} exists; pass --force to overwrite it`,
      );
    }
    throw new AttachmentError(
      "output_unwritable",
      "download",
      `cannot write ${path}: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
}

function progressBar(label: string): { listener: ProgressListener; bar?: ProgressBar } {
  const holder: { listener: ProgressListener; bar?: ProgressBar } = {
    listener: (progress) => {
      holder.bar ??= new ProgressBar({ label, write: writeErr, columns: terminalColumns() });
      holder.bar.update(progress);
    },
  };
  return holder;
}

function describeFailure(error: unknown): { exitCode: number; code: string; message: string } {
  if (error instanceof AttachmentError) {
    return { exitCode: exitCodeOf(error.code), code: error.code, message: error.message };
  }
  return {
    exitCode: EXIT_CODES.failed,
    code: "internal",
    message: error instanceof Error ? error.stack ?? error.message : String(error),
  };
}

/** The exit code of each error code that is not a service or network failure (4). */
const EXIT_CODE_OF: Partial<Record<AttachmentErrorCode, number>> = {
  usage: EXIT_CODES.usage,
  invalid_name: EXIT_CODES.refused,
  empty: EXIT_CODES.refused,
  too_large: EXIT_CODES.refused,
  unsupported_type: EXIT_CODES.refused,
  invalid_file: EXIT_CODES.refused,
  rejected_by_service: EXIT_CODES.refused,
  attachment_not_found: EXIT_CODES.refused,
  attachment_rejected: EXIT_CODES.refused,
  output_exists: EXIT_CODES.refused,
  output_unwritable: EXIT_CODES.refused,
  upload_refused: EXIT_CODES.transfer,
  upload_failed: EXIT_CODES.transfer,
  upload_timeout: EXIT_CODES.transfer,
  completion_failed: EXIT_CODES.transfer,
  download_failed: EXIT_CODES.transfer,
};

function exitCodeOf(code: AttachmentErrorCode): number {
  return EXIT_CODE_OF[code] ?? EXIT_CODES.upstream;
}

function baseName(path: string): string {
  return path.split(/[/\\]/).at(-1) || path;
}

function readEnv(name: string): string | undefined {
  try {
    return Deno.env.get(name);
  } catch {
    return undefined; // No --allow-env: options only.
  }
}

function terminalColumns(): number {
  try {
    return Deno.consoleSize().columns || 80;
  } catch {
    return 80;
  }
}

function addSignalListener(listener: () => void): boolean {
  try {
    Deno.addSignalListener("SIGINT", listener);
    return true;
  } catch {
    return false;
  }
}

const encoder = new TextEncoder();

function writeOut(text: string): void {
  writeAll(Deno.stdout, encoder.encode(text));
}

function writeErr(text: string): void {
  writeAll(Deno.stderr, encoder.encode(text));
}

function writeAll(target: { writeSync(p: Uint8Array): number }, bytes: Uint8Array): void {
  let offset = 0;
  while (offset < bytes.length) offset += target.writeSync(bytes.subarray(offset));
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
