/**
 * The local Participant Service's behaviour: idempotency, transcript paging, CORS, SigV4
 * headers ignored, and the fault injection API.
 */
import assert from "node:assert/strict";
import { openChat } from "../local/chat.ts";
import { startLocalStack } from "../local/stack.ts";
import { createParticipantClient } from "../src/_core/client.ts";
import type { components } from "../generated/participant.ts";
import { armFault, callCounts, clearFaults } from "../local/faults.ts";
import { putUpload } from "./_http.ts";
import { randomBytes } from "../testing/data.ts";

type Item = components["schemas"]["Item"];
type TranscriptRequest = components["schemas"]["GetTranscriptRequest"];

Deno.test("the local Participant Service", async (t) => {
  const stack = await startLocalStack({ s3Port: 0, participantPort: 0 });
  const url = stack.participantUrl;
  const client = createParticipantClient({ endpoint: url, retry: false });
  try {
    await t.step("idempotency: same ClientToken and parameters, same attachment", async () => {
      const { contactId, connectionToken } = await openChat(client);
      const input = {
        AttachmentName: "photo.png",
        ContentType: "image/png",
        AttachmentSizeInBytes: 512,
        ClientToken: crypto.randomUUID(),
      };
      const first = await client.startAttachmentUpload(connectionToken, input);
      const again = await client.startAttachmentUpload(connectionToken, input);
      assert.ok(first.data && again.data);
      assert.equal(again.data.AttachmentId, first.data.AttachmentId);
      assert.equal(stack.service.store.chats.get(contactId)!.attachments.size, 1);
      // The repeated answer's URL uploads to the same attachment.
      const bytes = randomBytes(512);
      const { Url, HeadersToInclude } = again.data.UploadMetadata!;
      assert.equal((await putUpload(Url!, HeadersToInclude!, bytes)).status, 200);
      const complete = { AttachmentIds: [first.data.AttachmentId!], ClientToken: "c-1" };
      assert.ok((await client.completeAttachmentUpload(connectionToken, complete)).data);
      assert.ok((await client.completeAttachmentUpload(connectionToken, complete)).data);
      const items = await client.getTranscript(connectionToken, { MaxResults: 100 });
      assert.equal(items.data!.Transcript!.filter((i) => i.Type === "ATTACHMENT").length, 1);
    });

    await t.step("idempotency: the same ClientToken with other parameters is refused", async () => {
      const { contactId, connectionToken } = await openChat(client);
      const input = {
        AttachmentName: "a.pdf",
        ContentType: "application/pdf",
        AttachmentSizeInBytes: 100,
        ClientToken: crypto.randomUUID(),
      };
      assert.ok((await client.startAttachmentUpload(connectionToken, input)).data);
      for (
        const changed of [
          { AttachmentName: "b.pdf" },
          { AttachmentSizeInBytes: 101 },
          { ContentType: "image/png", AttachmentName: "a.png" },
        ]
      ) {
        const { error } = await client.startAttachmentUpload(connectionToken, {
          ...input,
          ...changed,
        });
        assert.equal(error?.name, "ValidationException", JSON.stringify(changed));
        assert.match(error!.message, /ClientToken/);
      }
      assert.equal(stack.service.store.chats.get(contactId)!.attachments.size, 1);
    });

    await t.step("idempotency: ClientTokens belong to their participant", async () => {
      const one = await openChat(client);
      const two = await openChat(client);
      const input = {
        AttachmentName: "a.pdf",
        ContentType: "application/pdf",
        AttachmentSizeInBytes: 100,
        ClientToken: "shared-token",
      };
      const a = await client.startAttachmentUpload(one.connectionToken, input);
      const b = await client.startAttachmentUpload(two.connectionToken, input);
      assert.ok(a.data && b.data);
      assert.notEqual(a.data.AttachmentId, b.data.AttachmentId);
    });

    await t.step("idempotency: SendMessage with the same ClientToken sends once", async () => {
      const { connectionToken } = await openChat(client);
      const input = { ContentType: "text/plain", Content: "hi", ClientToken: "m-1" };
      const first = await client.sendMessage(connectionToken, input);
      const again = await client.sendMessage(connectionToken, input);
      assert.equal(again.data!.Id, first.data!.Id);
      const items = await client.getTranscript(connectionToken, { MaxResults: 100 });
      assert.equal(items.data!.Transcript!.filter((i) => i.Type === "MESSAGE").length, 1);
    });

    await t.step("transcript paging", async (t) => {
      const chat = await openChat(client);
      const token = chat.connectionToken;
      for (let i = 0; i < 24; i++) {
        const sent = await client.sendMessage(token, {
          ContentType: "text/plain",
          Content: `m${i}`,
        });
        assert.ok(sent.data);
      }
      // Oldest first: the join event, then m0..m23.
      const all = stack.service.store.chats.get(chat.contactId)!.items;
      assert.equal(all.length, 25);
      const label = (i: Item) => i.Content ?? i.Type!;
      const labels = (items: Item[]) => items.map(label);
      const page = async (input: TranscriptRequest) => {
        const { data, error } = await client.getTranscript(token, input);
        assert.ok(data, JSON.stringify(error));
        return { items: data.Transcript!, next: data.NextToken };
      };
      const m = (from: number, to: number) => {
        const out = [];
        for (let i = from; from <= to ? i <= to : i >= to; i += from <= to ? 1 : -1) {
          out.push(`m${i}`);
        }
        return out;
      };

      await t.step("defaults: 10 items, newest first, backward from the newest", async () => {
        const first = await page({});
        assert.deepEqual(labels(first.items), m(23, 14));
        assert.ok(first.next);
        assert.deepEqual(labels((await page({ MaxResults: 0 })).items), m(23, 14));
      });

      await t.step("following NextToken visits every item once", async () => {
        const seen: string[] = [];
        let next: string | undefined;
        let pages = 0;
        do {
          const p = await page({ MaxResults: 7, NextToken: next });
          seen.push(...labels(p.items));
          next = p.next;
          pages++;
        } while (next);
        assert.equal(pages, 4);
        assert.deepEqual(seen, [...m(23, 0), "PARTICIPANT_JOINED"]);
      });

      await t.step("SortOrder orders each page; ScanDirection picks which items", async () => {
        const backAsc = await page({ SortOrder: "ASCENDING", MaxResults: 5 });
        assert.deepEqual(labels(backAsc.items), m(19, 23));
        const second = await page({
          SortOrder: "ASCENDING",
          MaxResults: 5,
          NextToken: backAsc.next,
        });
        assert.deepEqual(labels(second.items), m(14, 18));
        const forward = await page({ ScanDirection: "FORWARD", SortOrder: "ASCENDING" });
        assert.deepEqual(labels(forward.items), ["PARTICIPANT_JOINED", ...m(0, 8)]);
        // The NextToken carries the direction on.
        assert.deepEqual(labels((await page({ NextToken: forward.next })).items), m(18, 9));
      });

      await t.step("StartPosition.Id: forward from it by default, or backward", async () => {
        const id = all.find((i) => i.Content === "m5")!.Id!;
        const fwd = await page({ StartPosition: { Id: id }, SortOrder: "ASCENDING" });
        assert.deepEqual(labels(fwd.items), m(5, 14));
        assert.ok(fwd.next);
        const back = await page({ StartPosition: { Id: id }, ScanDirection: "BACKWARD" });
        assert.deepEqual(labels(back.items), [...m(5, 0), "PARTICIPANT_JOINED"]);
        assert.equal(back.next, undefined);
      });

      await t.step(
        "StartPosition.MostRecent starts that many items before the newest",
        async () => {
          const recent = await page({ StartPosition: { MostRecent: 3 }, SortOrder: "ASCENDING" });
          assert.deepEqual(labels(recent.items), m(20, 23));
          assert.equal(recent.next, undefined);
          const newest = await page({ StartPosition: { MostRecent: 0 } });
          assert.deepEqual(labels(newest.items), ["m23"]);
        },
      );

      await t.step(
        "StartPosition.AbsoluteTime: items at or after it, or at or before it",
        async () => {
          const time = all.find((i) => i.Content === "m10")!.AbsoluteTime!;
          const at = (i: Item) => Date.parse(i.AbsoluteTime!);
          const after = await page({
            StartPosition: { AbsoluteTime: time },
            SortOrder: "ASCENDING",
            MaxResults: 100,
          });
          assert.deepEqual(
            labels(after.items),
            labels(all.filter((i) => at(i) >= Date.parse(time))),
          );
          const before = await page({
            StartPosition: { AbsoluteTime: time },
            ScanDirection: "BACKWARD",
            MaxResults: 100,
          });
          assert.deepEqual(
            labels(before.items),
            labels(all.filter((i) => at(i) <= Date.parse(time)).reverse()),
          );
          assert.ok(labels(after.items).includes("m10") && labels(before.items).includes("m10"));
        },
      );

      await t.step("MaxResults 100 takes everything in one page", async () => {
        const everything = await page({ MaxResults: 100, SortOrder: "ASCENDING" });
        assert.deepEqual(labels(everything.items), labels(all));
        assert.equal(everything.next, undefined);
      });

      await t.step("bad paging input is a ValidationException", async () => {
        const other = await openChat(client);
        await client.sendMessage(other.connectionToken, {
          ContentType: "text/plain",
          Content: "x",
        });
        const foreignNext = (await client.getTranscript(other.connectionToken, { MaxResults: 1 }))
          .data!.NextToken!;
        assert.ok(foreignNext);
        const bad: TranscriptRequest[] = [
          { NextToken: "not-a-token" },
          { NextToken: foreignNext },
          { StartPosition: { Id: "no-such-item" } },
          { StartPosition: { Id: all[3].Id!, MostRecent: 2 } },
          { StartPosition: { AbsoluteTime: "yesterday" } },
          { MaxResults: 101 },
          { ContactId: other.contactId },
          { ScanDirection: "SIDEWAYS" as "FORWARD" },
        ];
        for (const input of bad) {
          const { error } = await client.getTranscript(token, input);
          assert.equal(error?.name, "ValidationException", JSON.stringify(input));
        }
        // MostRecent 0 (its default) beside Id is no conflict.
        const id = all[3].Id!;
        assert.ok(
          (await client.getTranscript(token, { StartPosition: { Id: id, MostRecent: 0 } }))
            .data,
        );
      });
    });

    await t.step("CreateParticipantConnection checks its input", async () => {
      const { participantToken } = await openChat(client);
      const bad = [
        { Type: [] },
        { Type: "CONNECTION_CREDENTIALS" },
        { Type: ["CONNECTION_CREDENTIALS", "CARRIER_PIGEON"] },
        { Type: ["WEBRTC_CONNECTION"] },
        { ConnectParticipant: "yes" },
      ];
      for (const body of bad) {
        const response = await fetch(`${url}/participant/connection`, {
          method: "POST",
          headers: { "X-Amz-Bearer": participantToken },
          body: JSON.stringify(body),
        });
        await response.body?.cancel();
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.equal(response.headers.get("x-amzn-errortype"), "ValidationException");
      }
      const fine = await client.createParticipantConnection(participantToken, {
        Type: ["WEBSOCKET"],
        ConnectParticipant: false,
      });
      assert.ok(fine.data?.Websocket?.Url && !fine.data.ConnectionCredentials);
    });

    await t.step("CORS preflights are answered for the headers SDK clients send", async () => {
      const wanted = [
        "x-amz-bearer",
        "authorization",
        "x-amz-date",
        "x-amz-user-agent",
        "amz-sdk-invocation-id",
        "amz-sdk-request",
        "x-amz-content-sha256",
        "content-type",
      ];
      for (
        const [method, path] of [
          ["POST", "/participant/start-attachment-upload"],
          ["POST", "/participant/connection"],
          ["PUT", "/contact/chat"],
        ]
      ) {
        const response = await fetch(`${url}${path}`, {
          method: "OPTIONS",
          headers: {
            Origin: "https://chat.example.com",
            "Access-Control-Request-Method": method,
            "Access-Control-Request-Headers": wanted.join(", "),
          },
        });
        await response.body?.cancel();
        assert.ok(response.status === 204 || response.status === 200, String(response.status));
        const origin = response.headers.get("access-control-allow-origin");
        assert.ok(origin === "*" || origin === "https://chat.example.com");
        const methods = response.headers.get("access-control-allow-methods")!.split(/,\s*/);
        assert.ok(methods.includes(method), `${method} allowed`);
        const allowed = response.headers.get("access-control-allow-headers")!.toLowerCase()
          .split(/,\s*/);
        for (const header of wanted) assert.ok(allowed.includes(header), `${header} allowed`);
      }
      // The real answer lets a page read the error's name and the request id.
      const answer = await fetch(`${url}/participant/transcript`, {
        method: "POST",
        headers: { Origin: "https://chat.example.com", "X-Amz-Bearer": "nope" },
        body: "{}",
      });
      await answer.body?.cancel();
      assert.equal(answer.status, 403);
      assert.ok(answer.headers.get("access-control-allow-origin"));
      const exposed = answer.headers.get("access-control-expose-headers")!.toLowerCase();
      assert.ok(exposed.includes("x-amzn-errortype") && exposed.includes("x-amzn-requestid"));
    });

    await t.step("SigV4 headers from SDK clients are accepted and ignored", async () => {
      const { connectionToken } = await openChat(client);
      const response = await fetch(`${url}/participant/transcript`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "X-Amz-Bearer": connectionToken,
          "X-Amz-Date": "20261127T120000Z",
          "X-Amz-Security-Token": "dummy",
          Authorization:
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20261127/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=0000",
        },
        body: "{}",
      });
      assert.equal(response.status, 200, await response.text());
    });

    await t.step("fault API: rules are checked, listed, counted and cleared", async () => {
      await clearFaults(url);
      const refused = await fetch(`${url}/_local/faults`, {
        method: "POST",
        body: JSON.stringify({ operation: "GetTranscript", kind: "explode" }),
      });
      assert.equal(refused.status, 400);
      assert.equal(refused.headers.get("x-amzn-errortype"), "ValidationException");
      await refused.body?.cancel();
      await armFault(url, { operation: "GetTranscript", kind: "throttle", count: 2 });
      const listed = await (await fetch(`${url}/_local/faults`)).json();
      assert.equal(listed.rules[0].left, 2);
      const { connectionToken } = await openChat(client);
      const statuses = [];
      for (let i = 0; i < 3; i++) {
        statuses.push((await client.getTranscript(connectionToken)).response?.status);
      }
      assert.deepEqual(statuses, [429, 429, 200]);
      assert.equal((await callCounts(url)).GetTranscript, 3);
      await clearFaults(url);
      assert.deepEqual(await callCounts(url), {});
    });

    await t.step("fault API: a seeded rate hits the same calls on every run", async () => {
      const { connectionToken } = await openChat(client);
      const run = async () => {
        await clearFaults(url);
        await fetch(`${url}/_local/faults`, {
          method: "POST",
          body: JSON.stringify({ operation: "*", kind: "error", rate: 0.5, seed: 42 }),
        }).then((r) => r.body?.cancel());
        const statuses = [];
        for (let i = 0; i < 16; i++) {
          statuses.push((await client.getTranscript(connectionToken)).response?.status);
        }
        return statuses;
      };
      const first = await run();
      assert.deepEqual(await run(), first);
      assert.ok(first.includes(500) && first.includes(200), first.join(","));
      await clearFaults(url);
    });
  } finally {
    await stack.close();
  }
});
