/**
 * One run of the Participant Service client through an attachment's life, written once and
 * bundled for every runtime the client claims: Node 20 and Chromium run this same module
 * (tests/client_runtimes_test.ts). It imports the client only, so the bundle holds nothing a
 * runtime could lack beyond the Web APIs the client itself uses.
 *
 * @module
 */

import { createParticipantClient } from "../src/_core/client.ts";
import type { ParticipantServiceError } from "../src/_core/upstream.ts";

/** What the scenario is given. */
export interface ScenarioInput {
  /** The local Participant Service. */
  endpoint: string;
  /** A ParticipantToken from StartChatContact. */
  participantToken: string;
  /**
   * Whether to `PUT` the bytes to S3 and complete (where S3 can be reached: not from a page,
   * since the local S3 sends no CORS headers), or to complete without them and get the
   * service's ConflictException.
   */
  putBytes: boolean;
}

/** An error value as the scenario saw it. */
export interface SeenError {
  name: string;
  status: number;
  retryable: boolean;
  hasRequestId: boolean;
  message: string;
}

/** What the scenario saw, as plain JSON. */
export interface ScenarioReport {
  /** The runtime's own description: `navigator.userAgent`, or Node's `process.version`. */
  runtime: string;
  connected: boolean;
  /** Statuses of the tries of StartAttachmentUpload that were retried. */
  startRetries: number[];
  attachmentId?: string;
  /** S3's status for the `PUT`, when the bytes were sent. */
  putStatus?: number;
  /** CompleteAttachmentUpload: `ok`, or the error value. */
  complete: "ok" | SeenError;
  /** GetAttachment with a token the service never gave. */
  denied: SeenError | "no error";
  /** Statuses of retried tries of any other call (none are expected). */
  otherRetries: number[];
  /** Statuses of the tries of GetTranscript that were retried. */
  transcriptRetries: number[];
  /** The ids of the attachments the transcript lists. */
  transcriptAttachmentIds: string[];
}

function seen(error: ParticipantServiceError): SeenError {
  return {
    name: error.name,
    status: error.status,
    retryable: error.retryable,
    hasRequestId: typeof error.requestId === "string" && error.requestId.length > 0,
    message: error.message,
  };
}

/**
 * Runs the scenario. The caller arms the faults first: one throttle of StartAttachmentUpload
 * and one answer of GetTranscript lost after its headers, so that both kinds of retry run on
 * the runtime's own `fetch` and its own network errors.
 *
 * @param input The service, the chat and whether to send the bytes.
 * @returns What happened.
 */
export async function runClientScenario(input: ScenarioInput): Promise<ScenarioReport> {
  const retries: Record<string, number[]> = { start: [], transcript: [], other: [] };
  let phase = "other";
  const client = createParticipantClient({
    endpoint: input.endpoint,
    retry: {
      baseDelayMs: 5,
      maxDelayMs: 20,
      onRetry: ({ status }) => retries[phase]?.push(status),
    },
  });
  const host = globalThis as {
    navigator?: { userAgent?: string };
    process?: { version?: string };
  };
  const report: ScenarioReport = {
    runtime: host.process?.version ?? host.navigator?.userAgent ?? "unknown",
    connected: false,
    startRetries: retries.start,
    complete: "ok",
    denied: "no error",
    otherRetries: retries.other,
    transcriptRetries: retries.transcript,
    transcriptAttachmentIds: [],
  };

  const connection = await client.createParticipantConnection(input.participantToken, {
    Type: ["CONNECTION_CREDENTIALS"],
    ConnectParticipant: true,
  });
  if (connection.error) throw new Error(`connection: ${connection.error.name}`);
  const token = connection.data.ConnectionCredentials!.ConnectionToken!;
  report.connected = true;

  const bytes = new TextEncoder().encode("hello");
  phase = "start";
  const started = await client.startAttachmentUpload(token, {
    AttachmentName: "hello.txt",
    AttachmentSizeInBytes: bytes.length,
    ContentType: "text/plain",
  });
  phase = "other";
  if (started.error) throw new Error(`start: ${started.error.name}`);
  const attachmentId = started.data.AttachmentId!;
  report.attachmentId = attachmentId;

  if (input.putBytes) {
    const { Url, HeadersToInclude } = started.data.UploadMetadata!;
    const put = await fetch(Url!, { method: "PUT", headers: HeadersToInclude, body: bytes });
    await put.arrayBuffer();
    report.putStatus = put.status;
  }
  const completed = await client.completeAttachmentUpload(token, { AttachmentIds: [attachmentId] });
  report.complete = completed.error ? seen(completed.error) : "ok";

  const denied = await client.getAttachment("a-token-nobody-gave", { AttachmentId: attachmentId });
  report.denied = denied.error ? seen(denied.error) : "no error";

  phase = "transcript";
  const transcript = await client.getTranscript(token, { MaxResults: 100 });
  phase = "other";
  if (transcript.error) throw new Error(`transcript: ${transcript.error.name}`);
  report.transcriptAttachmentIds = (transcript.data.Transcript ?? [])
    .flatMap((item) => item.Attachments ?? [])
    .map((attachment) => attachment.AttachmentId!);
  return report;
}
