/**
 * Scan-aware answers, in workerd and Deno, against the local service with its scanner on: the
 * 201 says the attachment's status as the transcript shows it; `Prefer: wait=N` waits for the
 * verdict (201 APPROVED, 422 attachment_rejected, or 201 IN_PROGRESS at the deadline) with
 * `Preference-Applied`, in a bounded number of GetTranscript calls; and a download of a file
 * still being scanned or rejected is a clear problem, not attachment_not_found.
 */
import assert from "node:assert/strict";
import { AttachmentError, downloadAttachment, uploadAttachment, waitForScan } from "../src/mod.ts";
import { lookTimes } from "../src/_core/scan.ts";
import { preferredWait } from "../worker/prefer.ts";
import { EICAR, randomBytes } from "../testing/data.ts";
import { startRig, withChat } from "./_rig.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { workerFetch } from "./_worker_contract.ts";

/** How long the local scanner takes: long enough that a look right after completion is early. */
const SCAN_DELAY_MS = 4_000;

Deno.test("a wait's looks: at once, after pauses doubling from 0.5 s to 8 s, and at the deadline", () => {
  assert.deepEqual(lookTimes(0), [0]);
  assert.deepEqual(lookTimes(2_000), [0, 500, 1_500, 2_000]);
  assert.deepEqual(lookTimes(10_000), [0, 500, 1_500, 3_500, 7_500, 10_000]);
  // The longest wait the worker grants (60 s) costs 12 GetTranscript pages at most: with the
  // upload's own calls (3 tries each of start and complete, one PUT, the look) well within the
  // 50 subrequests of a Workers Free request.
  assert.deepEqual(lookTimes(60_000), [
    0,
    500,
    1_500,
    3_500,
    7_500,
    15_500,
    23_500,
    31_500,
    39_500,
    47_500,
    55_500,
    60_000,
  ]);
});

Deno.test("Prefer: wait=N as RFC 7240 has it: among other preferences, capped at 60, else ignored", () => {
  const wait = (prefer?: string) => preferredWait(new Headers(prefer ? { prefer } : {}));
  assert.equal(wait(), undefined);
  assert.equal(wait("wait=10"), 10);
  assert.equal(wait("respond-async, wait=10"), 10);
  assert.equal(wait("WAIT = 5"), 5);
  assert.equal(wait('wait="7"'), 7);
  assert.equal(wait("wait=3; foo=bar"), 3);
  assert.equal(wait("wait=10, wait=20"), 10, "the first wait counts");
  assert.equal(wait("wait=0"), 0);
  assert.equal(wait("wait=600"), 60, "more than 60 s is cut to 60");
  for (const ignored of ["wait=abc", "wait=1.5", "wait=-1", "wait", "nowait=4"]) {
    assert.equal(wait(ignored), undefined, ignored);
  }
  // A parameter of another preference is no preference of its own.
  assert.equal(wait("handling=strict; wait=3"), undefined);
});

for (const runtime of ["workerd", "deno"] satisfies WorkerRuntime[]) {
  Deno.test(`${runtime}: the 201 says the scan status; Prefer: wait=N waits for the verdict`, async () => {
    const rig = await startRig(runtime, { scanning: { delayMs: SCAN_DELAY_MS } });
    const pdf = { "Content-Type": "application/pdf" };
    const looks = () => rig.calls.GetTranscript ?? 0;
    const statusInService = (id: unknown) =>
      rig.stack.service.store.attachments().find((a) => a.id === id)?.status;
    const download = async (id: unknown) => {
      const response = await workerFetch(`${rig.worker.url}/attachments/${id}`, {
        headers: { "X-Amz-Bearer": rig.token },
      });
      const body = response.headers.get("content-type")?.includes("problem")
        ? await response.json()
        : (await response.arrayBuffer(), {});
      return { status: response.status, headers: response.headers, body };
    };
    try {
      // No preference: one look, right after completion, while the scan runs.
      let before = looks();
      const early = await rig.upload("early.pdf", randomBytes(20_000, 1), pdf);
      assert.equal(early.status, 201, JSON.stringify(early.json));
      assert.equal(early.json.status, "IN_PROGRESS");
      assert.equal(early.headers.get("preference-applied"), null);
      assert.equal(looks() - before, 1, "one GetTranscript call");

      // Still scanning: the download is a 409 attachment_scanning with Retry-After.
      const scanning = await download(early.json.attachmentId);
      assert.equal(scanning.status, 409, JSON.stringify(scanning.body));
      assert.equal(scanning.body.code, "attachment_scanning");
      assert.equal(scanning.body.attachmentId, early.json.attachmentId);
      assert.match(scanning.headers.get("retry-after") ?? "", /^\d+$/);

      // A wait shorter than the scan: 201 IN_PROGRESS at the deadline, in 4 looks (at once,
      // after 0.5 s, after 1.5 s, at 2 s).
      before = looks();
      const short = await rig.upload("short.pdf", randomBytes(20_000, 2), {
        ...pdf,
        Prefer: "wait=2",
      });
      assert.equal(short.status, 201, JSON.stringify(short.json));
      assert.equal(short.json.status, "IN_PROGRESS");
      assert.equal(short.headers.get("preference-applied"), "wait=2");
      assert.equal(statusInService(short.json.attachmentId), "IN_PROGRESS");
      assert.equal(looks() - before, 4);

      // Waits longer than the scan: the verdicts.
      const [clean, infected, capped] = await Promise.all([
        rig.upload("clean.pdf", randomBytes(30_000, 3), { ...pdf, Prefer: "wait=10" }),
        rig.upload("eicar.txt", new TextEncoder().encode(EICAR), {
          "Content-Type": "text/plain",
          Prefer: "respond-async, wait=10",
        }),
        rig.upload("capped.pdf", randomBytes(10_000, 4), { ...pdf, Prefer: "wait=600" }),
      ]);
      assert.equal(clean.status, 201, JSON.stringify(clean.json));
      assert.equal(clean.json.status, "APPROVED");
      assert.equal(clean.headers.get("preference-applied"), "wait=10");
      assert.equal(statusInService(clean.json.attachmentId), "APPROVED");

      assert.equal(infected.status, 422, JSON.stringify(infected.json));
      assert.equal(infected.json.code, "attachment_rejected");
      assert.match(String(infected.headers.get("content-type")), /application\/problem\+json/);
      assert.ok(infected.json.attachmentId, "the problem names the attachment");
      assert.equal(infected.headers.get("preference-applied"), "wait=10");
      assert.equal(statusInService(infected.json.attachmentId), "REJECTED");

      assert.equal(capped.status, 201);
      assert.equal(capped.json.status, "APPROVED");
      assert.equal(capped.headers.get("preference-applied"), "wait=60");

      // After the verdicts: the approved file downloads, the rejected one is a 422, an id the
      // chat never had a 404, the early one (approved by now) a 200.
      assert.equal((await download(clean.json.attachmentId)).status, 200);
      assert.equal((await download(early.json.attachmentId)).status, 200);
      const rejected = await download(infected.json.attachmentId);
      assert.equal(rejected.status, 422);
      assert.equal(rejected.body.code, "attachment_rejected");
      const unknown = await download("no-such-attachment");
      assert.equal(unknown.status, 404);
      assert.equal(unknown.body.code, "attachment_not_found");

      // complete=false: nothing in the chat to scan, so nothing is looked up or waited for.
      before = looks();
      const parked = await workerFetch(`${rig.worker.url}/attachments/parked.pdf?complete=false`, {
        method: "PUT",
        headers: { ...pdf, "X-Amz-Bearer": rig.token, Prefer: "wait=5" },
        body: randomBytes(5_000, 5),
      });
      const parkedBody = await parked.json();
      assert.equal(parked.status, 201, JSON.stringify(parkedBody));
      assert.equal(parkedBody.completed, false);
      assert.equal(parkedBody.status, undefined);
      assert.equal(parked.headers.get("preference-applied"), null);
      assert.equal(looks() - before, 0);
    } finally {
      await rig.close();
    }
  });
}

Deno.test("the library: waitForScan as an option and a function; downloads of unapproved files say why", async () => {
  await withChat(async ({ endpoint, token: connectionToken }) => {
    const service = { endpoint, connectionToken };
    const file = (seed: number) => randomBytes(10_000, seed);

    const early = await uploadAttachment({ ...service, file: file(1), name: "early.pdf" });
    assert.equal(early.status, "IN_PROGRESS", "looked up once, while the scan runs");
    const scanning = await downloadAttachment({ ...service, attachmentId: early.attachmentId })
      .catch((error) => error);
    assert.ok(scanning instanceof AttachmentError, String(scanning));
    assert.equal(scanning.code, "attachment_scanning");
    assert.equal(scanning.retryable, true);
    assert.equal(await waitForScan({ ...service, attachmentId: early.attachmentId }), "APPROVED");

    const [clean, infected] = await Promise.all([
      uploadAttachment({ ...service, file: file(2), name: "clean.pdf", waitForScan: 10 }),
      uploadAttachment({
        ...service,
        file: new TextEncoder().encode(EICAR),
        name: "eicar.txt",
        waitForScan: 10,
      }).catch((error) => error),
    ]);
    assert.equal(clean.status, "APPROVED");
    assert.ok(infected instanceof AttachmentError, String(infected));
    assert.equal(infected.code, "attachment_rejected");
    assert.equal(infected.stage, "scan");
    assert.equal(infected.retryable, false);
    assert.ok(infected.attachmentId);
    const gone = await downloadAttachment({ ...service, attachmentId: infected.attachmentId! })
      .catch((error) => error);
    assert.equal(gone.code, "attachment_rejected");
    await assert.rejects(
      waitForScan({ ...service, attachmentId: infected.attachmentId! }),
      (error) => error instanceof AttachmentError && error.code === "attachment_rejected",
    );
    const unknown = await downloadAttachment({ ...service, attachmentId: "no-such-id" })
      .catch((error) => error);
    assert.equal(unknown.code, "attachment_not_found");

    // A short wait runs out: IN_PROGRESS.
    const short = await uploadAttachment({
      ...service,
      file: file(3),
      name: "s.pdf",
      waitForScan: 1,
    });
    assert.equal(short.status, "IN_PROGRESS");
  }, { scanning: { delayMs: SCAN_DELAY_MS } });
});
