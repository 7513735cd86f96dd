/**
 * Hostile input to the upload worker, in workerd and in Deno: names, content types and
 * `Content-Length` values that break naive code. Every expected answer is stated here, from
 * docs/limits.md's rules (a name is 1–256 characters without `/`, `\` or control characters, not
 * ending in white space or a dot, with an extension of 1–10 letters, digits, `-` or `_`; the
 * instance, here one with Amazon Connect's defaults, allows the extension or refuses it; with
 * `ALLOWED_TYPES`, the worker refuses other types itself); nothing asks the product's own
 * rules what the answer should be.
 *
 * The properties (fast-check) draw a new seed each run and print it on failure;
 * `HOSTILE_SEED=<seed>` repeats a run.
 *
 * @module
 */

import assert from "node:assert/strict";
import fc from "fast-check";
import { attachmentDisposition } from "../local/presign.ts";
import { rawHttp } from "../testing/raw_http.ts";
import { type Rig, startRig } from "./_rig.ts";
import type { WorkerRuntime } from "../testing/worker.ts";
import { ACCEPTED_TYPES } from "./_connect_limits.ts";

const RUNTIMES: WorkerRuntime[] = ["workerd", "deno"];
const RUNS = 300;
const BODY = new TextEncoder().encode("hostile input");
const SEED = Number(Deno.env.get("HOSTILE_SEED") ?? Math.floor(Math.random() * 2 ** 31));

/**
 * What one name or type must get: a 201 and the type stored, or a status and a code, refused
 * by the worker itself (before any upstream call) or by the service (the instance's settings,
 * its ValidationException passed on as `upstream`).
 */
type Outcome =
  | { status: 201; type: string }
  | { status: 400 | 415; code: string; by: "worker" | "service" };

const pdf: Outcome = { status: 201, type: "application/pdf" };
const badName: Outcome = { status: 400, code: "invalid_name", by: "worker" };
const badType: Outcome = { status: 415, code: "unsupported_type", by: "worker" };
/** An extension the instance (Amazon Connect's defaults) does not allow. */
const notAllowed: Outcome = { status: 415, code: "unsupported_type", by: "service" };

/**
 * Names and the answer each must get. The valid ones hold the characters that URL, header and
 * form handling trip over (`% # & ; ' ( ) + = , @ ! ~ "`, non-ASCII, a literal `%2F`); each
 * must upload and be listed in the chat under exactly its name.
 */
const NAMES: [string, Outcome][] = [
  ["report.pdf", pdf],
  ["My  Report.pdf", pdf],
  ["two  spaces.txt", { status: 201, type: "text/plain" }],
  ["  leading and trailing  .pdf", pdf],
  ["100% sure.pdf", pdf],
  ["#1 draft.pdf", pdf],
  ["Q&A.pdf", pdf],
  ["a;b.pdf", pdf],
  ["it's.pdf", pdf],
  ["(copy).pdf", pdf],
  ["c++ notes.txt", { status: 201, type: "text/plain" }],
  ["a=b,c.csv", { status: 201, type: "text/csv" }],
  ["me@home.png", { status: 201, type: "image/png" }],
  ["wow!.jpg", { status: 201, type: "image/jpeg" }],
  ["~draft.docx", {
    status: 201,
    type: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  }],
  ["% # & ; ' ( ) + = , @ ! ~.pdf", pdf],
  ['say "hi".pdf', pdf],
  ["a%2Fb.pdf", pdf],
  ["%00%0D%0A.pdf", pdf],
  ["résumé.pdf", pdf],
  ["報告.pdf", pdf],
  ["naïve café.txt", { status: 201, type: "text/plain" }],
  ["😀 smile.png", { status: 201, type: "image/png" }],
  ["PHOTO.JPG", { status: 201, type: "image/jpeg" }],
  ["Scan.Png", { status: 201, type: "image/png" }],
  [`${"n".repeat(252)}.pdf`, pdf],
  [`${"é".repeat(252)}.pdf`, pdf],
  [`${"n".repeat(253)}.pdf`, badName],
  ["a/b.pdf", badName],
  ["a\\b.pdf", badName],
  ["a\r\nX-Injected: 1.pdf", badName],
  ["nul\0.pdf", badName],
  ["invoice\u202efdp.exe", badName],
  ["a\u2028b.pdf", badName],
  ["tab\t.pdf", badName],
  ["del\x7f.pdf", badName],
  ["next\u0085line.pdf", badName],
  ["esc\x1b[31m.pdf", badName],
  ["   ", badName],
  // White space or a dot at the end: dropped by file systems (and maybe by the service before
  // it reads the extension), so the name would not be the one sent.
  ["x.txt  ", badName],
  ["x.pdf ", badName],
  ["report.pdf\u00a0", badName],
  ["report.pdf\u3000", badName],
  ["report.pdf\ufeff", badName],
  ["x.pdf.", badName],
  ["trailing.", badName],
  // White space and quotes elsewhere are fine.
  ["  x.pdf", pdf],
  ["a   b   c.txt", { status: 201, type: "text/plain" }],
  ["x\u3000y\u00a0z.pdf", pdf],
  ['"quoted".pdf', pdf],
  ["'single'.pdf", pdf],
  ['a";filename="evil.exe.pdf', pdf],
  ["back`tick.pdf", pdf],
  // Long in UTF-8: 256 characters of 4 bytes, 2 UTF-16 units each.
  [`${"😀".repeat(252)}.pdf`, pdf],
  [`${"😀".repeat(253)}.pdf`, badName],
  [`${"日本".repeat(126)}.pdf`, pdf],
  ["notes", badType],
  ["x.abcdefghijk", badType],
  ["setup.exe", notAllowed],
  ["page.html", notAllowed],
  ["image.svg", notAllowed],
  ["report.pdf.exe", notAllowed],
  ["backup.zip", notAllowed],
];

/**
 * Content types sent with `file.pdf` to a worker with `ALLOWED_TYPES` set to Amazon Connect's
 * default types, and the answer each must get: the worker refuses the others itself.
 */
const TYPES: [string, Outcome][] = [
  ["application/pdf", pdf],
  ["application/pdf; charset=binary", pdf],
  ["Application/PDF", pdf],
  ["text/plain", { status: 201, type: "text/plain" }],
  ["text/csv; charset=utf-8", { status: 201, type: "text/csv" }],
  ["image/png", { status: 201, type: "image/png" }],
  ["audio/wav", { status: 201, type: "audio/wav" }],
  ["video/mp4", { status: 201, type: "video/mp4" }],
  ["application/vnd.ms-excel", { status: 201, type: "application/vnd.ms-excel" }],
  ["application/octet-stream", pdf],
  ["application/x-www-form-urlencoded", pdf],
  ["text/html", badType],
  ["image/svg+xml", badType],
  ["application/x-msdownload", badType],
  ["application/javascript", badType],
  ["application/zip", badType],
  ["*/*", badType],
  ["PDF", badType],
];

/**
 * Content types sent with `file.pdf` to a worker with its default settings, which leaves the
 * type to the instance: any media type is passed on as its essence; what is none is refused.
 */
const DEFAULT_TYPES: [string, Outcome][] = [
  ["application/pdf", pdf],
  ["application/octet-stream", pdf],
  ["audio/vnd.wave", { status: 201, type: "audio/vnd.wave" }],
  ["application/x-rtf", { status: 201, type: "application/x-rtf" }],
  ["text/richtext", { status: 201, type: "text/richtext" }],
  ["application/zip", { status: 201, type: "application/zip" }],
  ["Text/HTML; charset=utf-8", { status: 201, type: "text/html" }],
  ["*/*", badType],
  ["PDF", badType],
  ["text/", badType],
  ["a b/c", badType],
];

/** `ALLOWED_TYPES` of the rigs that refuse types themselves: Amazon Connect's defaults. */
const DEFAULT_CONNECT_TYPES =
  "csv,doc,docx,heic,jfif,jpeg,jpg,mov,mp4,pdf,png,ppt,pptx,rtf,txt,wav,xls,xlsx";

const REFUSED_TYPES = [
  "text/html",
  "image/svg+xml",
  "application/x-msdownload",
  "application/javascript",
  "application/zip",
  "video/x-msvideo",
];

/** Headers of the last PUT that reached S3, by lower-case name (every value kept). */
function lastS3Put(rig: Rig): Map<string, string[]> | undefined {
  const head = rig.proxy.heads.findLast((h) => h.startsWith("PUT "));
  if (!head) return undefined;
  const fields = new Map<string, string[]>();
  for (const line of head.split("\r\n").slice(1)) {
    if (line === "") continue;
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).toLowerCase();
    fields.set(name, [...(fields.get(name) ?? []), line.slice(colon + 1).trim()]);
  }
  return fields;
}

/** Checks that the last S3 PUT carried exactly the signed headers and the runtime's own. */
function assertCleanPut(rig: Rig, baseline: Set<string>, name: string, contentType: string) {
  const fields = lastS3Put(rig)!;
  for (const [header, values] of fields) {
    assert.ok(baseline.has(header), `unexpected header reached S3: ${header}`);
    assert.equal(values.length, 1, `${header} sent ${values.length} times`);
  }
  // What the service signed for this name (the local service's own header for it).
  assert.deepEqual(fields.get("content-disposition"), [attachmentDisposition(name)]);
  assert.deepEqual(fields.get("content-type"), [contentType]);
}

/**
 * A rig whose chats take many attachments, warmed up, with the headers of a plain upload; its
 * worker with its default settings, or with `ALLOWED_TYPES`.
 */
async function withRig(
  runtime: WorkerRuntime,
  run: (rig: Rig, baseline: Set<string>) => Promise<void>,
  allowedTypes?: string,
) {
  const rig = await startRig(runtime, {
    maxAttachmentsPerChat: 1000,
    vars: allowedTypes ? { ALLOWED_TYPES: allowedTypes } : {},
  });
  try {
    const warm = await rig.upload("warm.pdf", BODY);
    assert.equal(warm.status, 201);
    await run(rig, new Set(lastS3Put(rig)!.keys()));
  } finally {
    await rig.close();
  }
}

/** Checks one answer against its stated outcome; returns whether it uploaded. */
function assertOutcome(
  rig: Rig,
  baseline: Set<string>,
  sent: { status: number; json: Record<string, unknown> },
  name: string,
  expected: Outcome,
  what: string,
): boolean {
  assert.equal(
    sent.status,
    expected.status,
    `${what} → ${sent.status} ${JSON.stringify(sent.json)}`,
  );
  if (expected.status !== 201) {
    assert.equal(sent.json.code, expected.code, what);
    const upstream = sent.json.upstream as { name?: string } | undefined;
    if (expected.by === "service") {
      assert.equal(upstream?.name, "ValidationException", `${what}: the service's refusal`);
      assert.match(String(sent.json.detail), /StartAttachmentUpload failed: ValidationException/);
    } else {
      assert.equal(upstream, undefined, `${what}: refused by the worker, without a call`);
    }
    return false;
  }
  assert.equal(sent.json.name, name, what);
  assert.equal(sent.json.contentType, expected.type, what);
  assertCleanPut(rig, baseline, name, expected.type);
  return true;
}

/** Runs a property with the run's seed, and names the seed when it fails. */
async function check<T>(arbitrary: fc.Arbitrary<T>, predicate: (value: T) => Promise<void>) {
  try {
    await fc.assert(fc.asyncProperty(arbitrary, predicate), { numRuns: RUNS, seed: SEED });
  } catch (error) {
    throw new Error(
      `property failed with seed ${SEED} (HOSTILE_SEED=${SEED} repeats it): ${
        (error as Error).message
      }`,
    );
  }
}

/** Pieces of valid names: each is legal anywhere in a name, hostile as it is to naive code. */
const SAFE_PIECE = fc.constantFrom(
  "a",
  "Z",
  "7",
  " ",
  ".",
  "-",
  "_",
  "%",
  "%2F",
  "%0D%0A",
  "%00",
  "%252F",
  "#",
  "&",
  ";",
  "'",
  '"',
  "(",
  ")",
  "+",
  "=",
  ",",
  "@",
  "!",
  "~",
  "?",
  "é",
  "日本",
  "😀",
  "\ufeff",
);
/** Characters that make any name invalid. */
const POISON = fc.constantFrom(
  "/",
  "\\",
  "\r",
  "\n",
  "\r\n",
  "\0",
  "\t",
  "\x7f",
  "\u0085",
  "\x1b",
  // Bidirectional controls and line/paragraph separators: they let a name spoof its extension.
  "\u202e",
  "\u2066",
  "\u200f",
  "\u2028",
);
/** Extensions and what they make of an otherwise valid name. */
const EXTENSION: fc.Arbitrary<[string, Outcome]> = fc.constantFrom<[string, Outcome]>(
  [".pdf", pdf],
  [".txt", { status: 201, type: "text/plain" }],
  [".PNG", { status: 201, type: "image/png" }],
  [".csv", { status: 201, type: "text/csv" }],
  [".exe", notAllowed],
  [".html", notAllowed],
  ["", badType],
);

/** A name built with its answer known: valid pieces, maybe one poison, an extension. */
const HOSTILE_NAME: fc.Arbitrary<[string, Outcome]> = fc.oneof(
  fc.record({
    first: fc.constantFrom("a", "Z", "é", "日本", "😀", "%", "#", "&", ";", "'", "("),
    pieces: fc.array(SAFE_PIECE, { maxLength: 12 }),
    poison: fc.option(fc.tuple(POISON, fc.nat()), { nil: undefined }),
    extension: EXTENSION,
  }).map(({ first, pieces, poison, extension: [extension, outcome] }): [string, Outcome] => {
    const parts: string[] = [first, ...pieces];
    if (poison) parts.splice(1 + (poison[1] % parts.length), 0, poison[0]);
    const name = parts.join("") + extension;
    // Without an extension, the name may end in white space or a dot: a name problem first.
    const badEnd = extension === "" && /[\s.]$/.test(name);
    return [name, poison || badEnd ? badName : outcome];
  }),
  // Around the 256-character limit, in characters (code points), not bytes or UTF-16 units.
  fc.tuple(fc.integer({ min: 240, max: 270 }), fc.constantFrom("n", "é", "😀")).map((
    [n, c],
  ): [string, Outcome] => [c.repeat(n) + ".pdf", n + 4 <= 256 ? pdf : badName]),
);

for (const runtime of RUNTIMES) {
  Deno.test(`${runtime}: each name in the table gets its stated answer; the valid ones upload and are listed under their exact name`, async () => {
    await withRig(runtime, async (rig, baseline) => {
      const uploaded: string[] = ["warm.pdf"];
      for (const [name, expected] of NAMES) {
        const sent = await rig.upload(name, BODY);
        if (assertOutcome(rig, baseline, sent, name, expected, JSON.stringify(name))) {
          uploaded.push(name);
        }
      }
      const listed = (await rig.attachments()).map((a) => a.name);
      assert.deepEqual(listed.sort(), uploaded.sort());
    });
  });

  Deno.test(`${runtime}: each content type in the tables gets its stated answer and reaches S3 as its essence, with ALLOWED_TYPES and without`, async () => {
    await withRig(runtime, async (rig, baseline) => {
      for (const [type, expected] of TYPES) {
        const sent = await rig.upload("file.pdf", BODY, { "Content-Type": type });
        assertOutcome(rig, baseline, sent, "file.pdf", expected, JSON.stringify(type));
      }
    }, DEFAULT_CONNECT_TYPES);
    await withRig(runtime, async (rig, baseline) => {
      for (const [type, expected] of DEFAULT_TYPES) {
        const sent = await rig.upload("file.pdf", BODY, { "Content-Type": type });
        assertOutcome(rig, baseline, sent, "file.pdf", expected, JSON.stringify(type));
      }
    });
  });

  Deno.test(`${runtime}: hostile names (property) get their known answer; valid ones upload and are listed under their exact name`, async () => {
    await withRig(runtime, async (rig, baseline) => {
      const uploaded: string[] = ["warm.pdf"];
      await check(HOSTILE_NAME, async ([name, expected]) => {
        const sent = await rig.upload(name, BODY);
        if (assertOutcome(rig, baseline, sent, name, expected, JSON.stringify(name))) {
          uploaded.push(name);
        }
      });
      const listed = (await rig.attachments()).map((a) => a.name);
      assert.deepEqual(listed.sort(), uploaded.sort(), `seed ${SEED}`);
    });
  });

  Deno.test(`${runtime}: hostile content types (property), with ALLOWED_TYPES, get 415 or their essence, never a 5xx or an injected header`, async () => {
    const printable = fc.string({
      unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)),
      maxLength: 60,
    });
    const caseChanged = (type: string, flips: boolean[]) =>
      [...type].map((c, i) => (flips[i % flips.length] ? c.toUpperCase() : c)).join("");
    // A known type in any case, with or without junk parameters: its answer is known.
    const known: fc.Arbitrary<[string, Outcome]> = fc.tuple(
      fc.oneof(
        fc.constantFrom(...ACCEPTED_TYPES).map((t): [string, Outcome] => [t, {
          status: 201,
          type: t,
        }]),
        fc.constantFrom(...REFUSED_TYPES).map((t): [string, Outcome] => [t, badType]),
        fc.constantFrom("application/octet-stream", "application/x-www-form-urlencoded")
          .map((t): [string, Outcome] => [t, pdf]),
      ),
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.option(printable, { nil: undefined }),
    ).map(([[type, outcome], flips, junk]): [string, Outcome] => [
      caseChanged(type, flips) + (junk === undefined ? "" : `; ${junk}`),
      outcome,
    ]);
    await withRig(runtime, async (rig, baseline) => {
      await check(
        fc.oneof(known, printable.map((t): [string, Outcome | undefined] => [t, undefined])),
        async ([type, expected]) => {
          const sent = await rig.upload("file.pdf", BODY, { "Content-Type": type });
          if (expected) {
            assertOutcome(rig, baseline, sent, "file.pdf", expected, JSON.stringify(type));
            return;
          }
          // Junk: refused as a type, or (where it names no type at all) read from the name.
          assert.ok(
            sent.status === 201 || sent.status === 415,
            `${JSON.stringify(type)} → ${sent.status}`,
          );
          if (sent.status === 415) {
            assert.equal(sent.json.code, "unsupported_type");
          } else {
            assert.ok(ACCEPTED_TYPES.includes(sent.json.contentType as string), type);
            assertCleanPut(rig, baseline, "file.pdf", sent.json.contentType as string);
          }
        },
      );
    }, DEFAULT_CONNECT_TYPES);
  });

  Deno.test(`${runtime}: hostile Content-Length values and raw header tricks get a 4xx, never a 5xx from the worker, and inject no header into S3's request`, async () => {
    const length = fc.oneof(
      fc.constantFrom("-1", "abc", "1e3", "0x10", "+13", "13.0", "", "13 13", "٣"),
      fc.bigInt({ min: 10n ** 16n, max: 10n ** 30n }).map(String),
      fc.integer({ min: 14, max: 1000 }).map((n) => `13\r\nContent-Length: ${n}`),
      fc.constantFrom("13, 14", "99999999999"),
    );
    await withRig(runtime, async (rig) => {
      const putsBefore = rig.proxy.heads.length;
      await check(length, async (value) => {
        let status = 0;
        let problem = false;
        try {
          const answer = await rawHttp({
            url: `${rig.worker.url}/attachments/len.pdf`,
            headers: { "X-Amz-Bearer": rig.token, "Content-Length": value },
            body: BODY,
          });
          status = answer?.status ?? 0;
          problem = answer?.headers.get("content-type") === "application/problem+json";
        } catch {
          status = 0; // The runtime's HTTP parser closed the connection without an answer.
        }
        // workerd's own HTTP layer (kj) answers a malformed Content-Length with a bare 500
        // before any worker code runs; the worker itself never answers 5xx here.
        const refusedByWorkerd = runtime === "workerd" && status === 500 && !problem;
        assert.ok(
          status === 0 || refusedByWorkerd || (status >= 400 && status < 500),
          `Content-Length ${JSON.stringify(value)} → ${status}`,
        );
      });
      // Header tricks: CR/LF in values, a second header smuggled through a value, raw control
      // characters in the path.
      const tricks: [string, Record<string, string>][] = [
        ["/attachments/a.pdf", { "Content-Type": "application/pdf\r\nX-Injected: 1" }],
        ["/attachments/a.pdf", { "Content-Type": "application/pdf\rX-Injected: 1" }],
        ["/attachments/a%0D%0AX-Injected:%201.pdf", {}],
        ["/attachments/a\r\nX-Injected: 1.pdf", {}],
        ["/attachments/a.pdf", { "Idempotency-Key": "k\r\nX-Injected: 1" }],
      ];
      for (const [path, headers] of tricks) {
        let status = 0;
        try {
          const answer = await rawHttp({
            url: `${rig.worker.url}${path}`,
            headers: {
              "X-Amz-Bearer": rig.token,
              "Content-Length": String(BODY.length),
              ...headers,
            },
            body: BODY,
          });
          status = answer?.status ?? 0;
        } catch { /* closed without an answer */ }
        assert.ok(status !== 500 && status < 502, `${JSON.stringify([path, headers])} → ${status}`);
      }
      for (const head of rig.proxy.heads.slice(putsBefore)) {
        const names = head.split("\r\n").slice(1).map((line) => line.split(":")[0].toLowerCase());
        assert.ok(!names.includes("x-injected"), head);
      }
    });
  });
}
