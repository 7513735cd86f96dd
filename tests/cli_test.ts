import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { deleteBucket } from "./_http.ts";
import { type LocalStack, type LocalStackOptions, startLocalStack } from "../local/stack.ts";
import { createParticipantClient, listAttachments, uploadAttachment } from "../src/mod.ts";
import { type ProcessResult, REPO_ROOT, runCommand, runDeno } from "./_run.ts";
import { EICAR, randomBytes, sha256 } from "../testing/data.ts";

const CLI = `${REPO_ROOT}src/cli.ts`;

interface Ctx {
  stack: LocalStack;
  endpoint: string;
  token: string;
  participantToken: string;
  dir: string;
  /** Runs the CLI in `dir` with the ConnectionToken in the environment. */
  cli(args: string[], env?: Record<string, string>): Promise<ProcessResult>;
}

let cached: Promise<void> | undefined;

/**
 * Fetches the CLI's dependencies into Deno's cache once, as a user's first run would, so that
 * Deno's "Download ..." notices on a fresh machine are not read as the CLI's own output.
 */
function cacheCli(): Promise<void> {
  cached ??= runDeno(["cache", "--no-config", CLI]).then((result) => {
    assert.equal(result.code, 0, result.stderr);
  });
  return cached;
}

async function withCli(
  fn: (ctx: Ctx) => Promise<void>,
  service: Pick<LocalStackOptions, "scanning"> = {},
) {
  await cacheCli();
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0, ...service });
  const dir = await Deno.makeTempDir({ prefix: "cli-test-" });
  try {
    const chat = await openChat(createParticipantClient({ endpoint: stack.participantUrl }));
    const secrets = [chat.connectionToken, chat.participantToken];
    await fn({
      stack,
      endpoint: stack.participantUrl,
      token: chat.connectionToken,
      participantToken: chat.participantToken,
      dir,
      async cli(args, env = { CONNECT_CONNECTION_TOKEN: chat.connectionToken }) {
        const result = await runDeno(["run", "-A", "--no-config", CLI, ...args], { cwd: dir, env });
        for (const secret of secrets) {
          assert.ok(!result.stdout.includes(secret), "a token leaked to stdout");
          assert.ok(!result.stderr.includes(secret), "a token leaked to stderr");
        }
        return result;
      },
    });
  } finally {
    await stack.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** Runs a shell command line on a real pseudo-terminal (util-linux `script`). */
async function onTerminal(commandLine: string, env: Record<string, string>, cwd: string) {
  return await runCommand("script", ["-qfec", commandLine, "/dev/null"], { env, cwd });
}

const quote = (s: string) => `'${s.replaceAll("'", `'\\''`)}'`;

Deno.test("cli upload sends a file and prints its id; --json is machine-readable; no progress bar off a terminal", async () => {
  await withCli(async ({ cli, endpoint, token, dir }) => {
    const bytes = randomBytes(400_000, 21);
    await Deno.writeFile(`${dir}/report.pdf`, bytes);

    const plain = await cli(["upload", "report.pdf", "--endpoint", endpoint]);
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stdout,
      /^[0-9a-f-]{36}\tAPPROVED\tuploaded report\.pdf \(400\.0 kB, application\/pdf\)\n$/,
    );
    assert.equal(plain.stderr, "", "stderr is no terminal: no progress bar");

    const json = await cli([
      "upload",
      "report.pdf",
      "--endpoint",
      endpoint,
      "--json",
      "--name",
      "renamed.pdf",
    ]);
    assert.equal(json.code, 0, json.stderr);
    const sent = JSON.parse(json.stdout);
    assert.equal(sent.name, "renamed.pdf");
    assert.equal(sent.size, bytes.length);
    assert.equal(sent.completed, true);
    assert.equal(json.stderr, "");

    const listed = await listAttachments({ endpoint, connectionToken: token });
    assert.deepEqual(listed.map((a) => a.name), ["report.pdf", "renamed.pdf"]);
    assert.equal(listed[1].attachmentId, sent.attachmentId);
  });
});

Deno.test("cli upload --wait waits for the chat's scanner: APPROVED, or exit 3 attachment_rejected", async () => {
  await withCli(async ({ cli, endpoint, dir }) => {
    await Deno.writeFile(`${dir}/clean.pdf`, randomBytes(20_000, 23));
    await Deno.writeTextFile(`${dir}/eicar.txt`, EICAR);

    const early = await cli(["upload", "clean.pdf", "--endpoint", endpoint]);
    assert.equal(early.code, 0, early.stderr);
    assert.match(early.stdout, /^[0-9a-f-]{36}\tIN_PROGRESS\tuploaded clean\.pdf /);

    const approved = await cli(["upload", "clean.pdf", "--endpoint", endpoint, "--wait", "10"]);
    assert.equal(approved.code, 0, approved.stderr);
    assert.match(approved.stdout, /^[0-9a-f-]{36}\tAPPROVED\tuploaded clean\.pdf /);

    const rejected = await cli(["upload", "eicar.txt", "--endpoint", endpoint, "--wait", "10"]);
    assert.equal(rejected.code, 3, rejected.stderr);
    assert.match(rejected.stderr, /rejected the file.*\(attachment_rejected\)/);

    const bad = await cli(["upload", "clean.pdf", "--endpoint", endpoint, "--wait", "soon"]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--wait takes a whole number of seconds/);
  }, { scanning: { delayMs: 2_000 } });
});

Deno.test("cli upload draws a progress bar on a terminal (a real pty), and --quiet hides it", async () => {
  await withCli(async ({ endpoint, token, dir }) => {
    await Deno.writeFile(`${dir}/video.mp4`, randomBytes(3_000_000, 22));
    const command = `${quote(Deno.execPath())} run -A --no-config ${
      quote(CLI)
    } upload video.mp4 --endpoint ${quote(endpoint)}`;
    const env = { CONNECT_CONNECTION_TOKEN: token, NO_COLOR: "1" };

    const shown = await onTerminal(command, env, dir);
    assert.equal(shown.code, 0, shown.stdout);
    assert.ok(!shown.stdout.includes(token));
    // Redrawn in place: carriage return, the line, clear to the end of the line (ESC [K).
    const screen = shown.stdout.replaceAll("\x1b[K", "<clear>");
    assert.match(
      screen,
      /\rvideo\.mp4 \[#{24}\] 100% 3\.0 MB\/3\.0 MB \d+(\.\d)? [kMG]?B\/s ETA 0s<clear>\r?\n/,
    );
    assert.match(shown.stdout, /uploaded video\.mp4 \(3\.0 MB, video\/mp4\)/);

    const quiet = await onTerminal(`${command} --quiet`, env, dir);
    assert.equal(quiet.code, 0, quiet.stdout);
    assert.doesNotMatch(quiet.stdout, /\[#*-*\]/);
    assert.match(quiet.stdout, /uploaded video\.mp4/);
  });
});

Deno.test("cli list and download: the bytes come back intact, to a file or stdout; an existing file is kept", async () => {
  await withCli(async ({ cli, endpoint, token, dir }) => {
    const bytes = randomBytes(250_000, 23);
    const sent = await uploadAttachment({
      endpoint,
      connectionToken: token,
      file: bytes,
      name: "résumé.pdf",
    });

    const list = await cli(["list", "--endpoint", endpoint]);
    assert.equal(list.code, 0, list.stderr);
    assert.equal(list.stdout, `${sent.attachmentId}\tAPPROVED\tapplication/pdf\trésumé.pdf\n`);
    const listJson = await cli(["list", "--endpoint", endpoint, "--json"]);
    assert.equal(JSON.parse(listJson.stdout)[0].attachmentId, sent.attachmentId);

    // By default, saved under its own name.
    const saved = await cli(["download", sent.attachmentId, "--endpoint", endpoint]);
    assert.equal(saved.code, 0, saved.stderr);
    assert.equal(await sha256(await Deno.readFile(`${dir}/résumé.pdf`)), await sha256(bytes));
    assert.match(saved.stdout, /saved résumé\.pdf \(250\.0 kB\)/);

    // An existing file is not overwritten without --force.
    await Deno.writeTextFile(`${dir}/keep.pdf`, "mine");
    const kept = await cli([
      "download",
      sent.attachmentId,
      "-o",
      "keep.pdf",
      "--endpoint",
      endpoint,
    ]);
    assert.equal(kept.code, 3);
    assert.match(kept.stderr, /keep\.pdf exists; pass --force/);
    assert.equal(await Deno.readTextFile(`${dir}/keep.pdf`), "mine");
    const forced = await cli([
      "download",
      sent.attachmentId,
      "-o",
      "keep.pdf",
      "--force",
      "--json",
      "--endpoint",
      endpoint,
    ]);
    assert.equal(forced.code, 0, forced.stderr);
    assert.deepEqual(JSON.parse(forced.stdout), {
      attachmentId: sent.attachmentId,
      path: "keep.pdf",
      name: "résumé.pdf",
      contentType: "application/pdf",
      size: bytes.length,
    });
    assert.equal(await sha256(await Deno.readFile(`${dir}/keep.pdf`)), await sha256(bytes));

    const piped = await cli(["download", sent.attachmentId, "-o", "-", "--endpoint", endpoint]);
    assert.equal(piped.code, 0, piped.stderr);
    assert.equal(await sha256(piped.stdoutBytes), await sha256(bytes));
  });
});

Deno.test("cli connects first with a ParticipantToken from the environment", async () => {
  await withCli(async ({ cli, endpoint, participantToken, dir }) => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    const env = { CONNECT_PARTICIPANT_TOKEN: participantToken, CONNECT_ENDPOINT: endpoint };
    const sent = await cli(["upload", "notes.txt", "--json"], env);
    assert.equal(sent.code, 0, sent.stderr);
    const listed = await cli(["list", "--json"], env);
    assert.equal(JSON.parse(listed.stdout)[0].attachmentId, JSON.parse(sent.stdout).attachmentId);
  });
});

Deno.test("cli exit codes: 2 usage, 3 refused input, 4 service or auth failure, 5 transfer failed", async () => {
  await withCli(async ({ cli, stack, endpoint, token, dir }) => {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    await Deno.writeTextFile(`${dir}/setup.exe`, "MZ");
    await Deno.writeTextFile(`${dir}/notes`, "no extension");
    const usage: string[][] = [
      [],
      ["send", "notes.txt"],
      ["upload"],
      ["upload", "notes.txt"], // neither endpoint nor region
      ["upload", "notes.txt", "--endpoint", "ftp://example.com"],
      ["upload", "notes.txt", "--region", "mars"],
      ["upload", "a.txt", "b.txt", "--endpoint", endpoint],
      ["upload", "notes.txt", "--endpoint", endpoint, "--colour"],
      ["list", "--endpoint", endpoint, "--name", "x"],
      ["download", "id", "-o", "-", "--json", "--endpoint", endpoint],
    ];
    for (const args of usage) {
      const result = await cli(args);
      assert.equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /^error: .+\nRun with.* --help for usage\.\n$/);
    }
    const noToken = await cli(["list", "--endpoint", endpoint], {});
    assert.equal(noToken.code, 2);
    assert.match(noToken.stderr, /CONNECT_CONNECTION_TOKEN/);

    const refused: [string[], RegExp][] = [
      [["upload", "missing.pdf"], /cannot read missing\.pdf: no such file \(invalid_file\)/],
      // The instance (Amazon Connect's defaults) refuses it, and says why.
      [["upload", "setup.exe"], /The extension \.exe is not allowed.*\(unsupported_type\)/],
      [["upload", "notes"], /does not end in an extension.*\(unsupported_type\)/],
      [["upload", "notes.txt", "--name", "a/b.txt"], /\(invalid_name\)/],
      [["download", "no-such-id"], /ValidationException/],
    ];
    for (const [args, message] of refused) {
      const result = await cli([...args, "--endpoint", endpoint]);
      assert.equal(result.code, 3, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, message);
    }
    const json = await cli(["upload", "setup.exe", "--endpoint", endpoint, "--json"]);
    assert.deepEqual(JSON.parse(json.stdout).error.code, "unsupported_type");
    assert.equal(JSON.parse(json.stdout).error.exitCode, 3);

    const badToken = await cli(["upload", "notes.txt", "--endpoint", endpoint], {
      CONNECT_CONNECTION_TOKEN: "not-a-token",
    });
    assert.equal(badToken.code, 4);
    assert.match(badToken.stderr, /AccessDeniedException.*\(access_denied\)/);
    assert.ok(!badToken.stderr.includes("not-a-token"));

    stack.service.faults.add({ operation: "StartAttachmentUpload", kind: "error", count: 3 });
    const failing = await cli(["upload", "notes.txt", "--endpoint", endpoint]);
    assert.equal(failing.code, 4, failing.stderr);
    assert.match(failing.stderr, /\(service_unavailable\)/);

    await deleteBucket(stack.s3);
    const refusedByS3 = await cli(["upload", "notes.txt", "--endpoint", endpoint]);
    assert.equal(refusedByS3.code, 5, refusedByS3.stderr);
    assert.match(refusedByS3.stderr, /S3 refused the upload: HTTP 404 NoSuchBucket/);
    assert.deepEqual(await listAttachments({ endpoint, connectionToken: token }), []);
  });
});

Deno.test("cli --help works for every command", async () => {
  await withCli(async ({ cli }) => {
    const general = await cli(["--help"]);
    assert.equal(general.code, 0);
    assert.match(general.stdout, /Usage:\n {2}cli\.ts upload <file>/);
    assert.match(general.stdout, /Exit codes:/);
    for (const command of ["upload", "download", "list"]) {
      for (const args of [[command, "--help"], [command, "-h"], ["help", command]]) {
        const result = await cli(args, {});
        assert.equal(result.code, 0, args.join(" "));
        assert.ok(result.stdout.startsWith(`Usage: cli.ts ${command}`), args.join(" "));
      }
    }
  });
});

Deno.test("cli stops on Ctrl-C (SIGINT) with exit code 130", async () => {
  // A service that takes the call and never answers, so the CLI is surely mid-call.
  let arrived!: () => void;
  const called = new Promise<void>((resolve) => (arrived = resolve));
  const never = Promise.withResolvers<Response>();
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, () => {
    arrived();
    return never.promise;
  });
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/notes.txt`, "hello");
    const child = new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--no-config",
        CLI,
        "upload",
        "notes.txt",
        "--endpoint",
        `http://127.0.0.1:${server.addr.port}`,
      ],
      cwd: dir,
      env: { CONNECT_CONNECTION_TOKEN: "token", NO_COLOR: "1" },
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    await called;
    child.kill("SIGINT");
    const { code, stderr } = await child.output();
    assert.equal(code, 130);
    assert.equal(new TextDecoder().decode(stderr), "error: interrupted\n");
  } finally {
    never.resolve(new Response("{}"));
    await server.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});
