/**
 * Shared helpers for the test suite: test data and digests.
 *
 * @module
 */

/** `size` bytes of pseudo-random data, deterministic for a seed. */
export function randomBytes(size: number, seed = 1): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(size);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < size; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    bytes[i] = state & 0xff;
  }
  return bytes;
}

/** The hex SHA-256 of some bytes. */
export async function sha256(bytes: BufferSource): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", bytes);
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0")).join("");
}

/** What a finished subprocess left behind. */
export interface ProcessResult {
  code: number;
  stdout: string;
  stderr: string;
  /** stdout as bytes, for binary output. */
  stdoutBytes: Uint8Array<ArrayBuffer>;
}

/**
 * Runs `deno` (the one running the tests) with arguments, as a user would in a shell: no
 * inherited `CONNECT_*` variables unless given, `NO_COLOR` set.
 */
export async function runDeno(
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  return await runCommand(Deno.execPath(), args, options);
}

/** Runs a program and collects its exit code and output; stdin is closed. */
export async function runCommand(
  program: string,
  args: string[],
  options: { cwd?: string; env?: Record<string, string> } = {},
): Promise<ProcessResult> {
  const env: Record<string, string> = { NO_COLOR: "1", DENO_NO_UPDATE_CHECK: "1" };
  for (const [key, value] of Object.entries(Deno.env.toObject())) {
    if (!key.startsWith("CONNECT_") && key !== "AWS_REGION") env[key] = value;
  }
  const output = await new Deno.Command(program, {
    args,
    cwd: options.cwd,
    env: { ...env, ...options.env },
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
    stdoutBytes: output.stdout,
  };
}

/** The repository's root folder. */
export const REPO_ROOT: string = new URL("..", import.meta.url).pathname;
