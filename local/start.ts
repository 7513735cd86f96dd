/**
 * Starts the local stack for development: the verifying S3 and the local Participant
 * Service, then opens a chat and prints the URLs and a ready ConnectionToken.
 *
 * Addresses come from flags, then environment variables, then defaults:
 * `--host` / `HOST` (127.0.0.1), `--s3-port` / `S3_PORT` (4568),
 * `--participant-port` / `PARTICIPANT_PORT` (8788). Port 0 picks a free port. A port in use
 * is an error. Ctrl+C (or SIGTERM) stops both servers and removes the S3 data.
 *
 * @example
 * ```sh
 * deno task start
 * PARTICIPANT_PORT=9788 deno task start -- --s3-port 0
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { createParticipantClient } from "../src/client.ts";
import { openChat } from "./chat.ts";
import { startLocalStack } from "./stack.ts";

function port(flag: string | undefined, variable: string, fallback: number): number {
  const raw = flag ?? Deno.env.get(variable);
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    throw new Error(`${variable} must be a port number (0-65535), got ${JSON.stringify(raw)}`);
  }
  return value;
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      host: { type: "string" },
      "s3-port": { type: "string" },
      "participant-port": { type: "string" },
      quiet: { type: "boolean", default: false },
    },
  });
  const hostname = values.host ?? Deno.env.get("HOST") ?? "127.0.0.1";
  const stack = await startLocalStack({
    hostname,
    s3Port: port(values["s3-port"], "S3_PORT", 4568),
    participantPort: port(values["participant-port"], "PARTICIPANT_PORT", 8788),
    log: values.quiet ? undefined : (line) => console.error(line),
  });
  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= stack.close().then(() => Deno.exit(0));
  };
  Deno.addSignalListener("SIGINT", stop);
  Deno.addSignalListener("SIGTERM", stop);

  const client = createParticipantClient({ endpoint: stack.participantUrl });
  const chat = await openChat(client).catch(async (error) => {
    await stack.close();
    throw error;
  });
  const rows: [string, string][] = [
    ["Local S3", `${stack.s3.url} (bucket ${stack.s3.bucket})`],
    ["S3 data", stack.s3.directory],
    ["Participant Service", stack.participantUrl],
    ["Fault injection", `${stack.participantUrl}/_local/faults`],
    ["Contact id", chat.contactId],
    ["ParticipantToken", chat.participantToken],
    ["ConnectionToken", chat.connectionToken],
  ];
  for (const [name, value] of rows) console.log(`${`${name}:`.padEnd(21)} ${value}`);
  console.log("Ready. Ctrl+C stops the stack.");
}

if (import.meta.main) {
  try {
    await main();
  } catch (error) {
    console.error(error instanceof Error ? error.message : String(error));
    Deno.exit(1);
  }
}
