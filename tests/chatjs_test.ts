/// <reference lib="dom" />
/**
 * The official browser library, amazon-connect-chatjs, unchanged, in headless Chromium against
 * the stack `deno task start` runs (started the same way, on free ports, with scanning on and
 * the test page's origin allowed on the bucket). Only `ChatSession.setGlobalConfig`'s
 * `endpoint` points it at the local service.
 *
 * The customer (chatjs) connects, sends a PDF; the ATTACHMENT item arrives through
 * `onMessage`, IN_PROGRESS and then APPROVED; `downloadAttachment` returns the same bytes. The
 * agent, joined through the local service's development endpoint, sees the same items on its
 * own websocket and sends a file back, which chatjs receives and downloads. An EICAR file ends
 * REJECTED in chatjs's `onMessage`, and downloading it is refused.
 */
import assert from "node:assert/strict";
import { Buffer } from "node:buffer";
import {
  connectParticipant,
  type Item,
  joinAsAgent,
  openChatSocket,
  sendFile,
  startChatContact,
} from "./_chat_socket.ts";
import { ignoreWithoutChromium, launchBrowser } from "../testing/browser.ts";
import { bannerField, onFreePorts, start } from "./_start.ts";
import { eventually } from "./_wait.ts";
import { EICAR, randomBytes, sha256 } from "../testing/data.ts";
import { serveTiny } from "./_http.ts";

const CHATJS = new URL(
  "../node_modules/amazon-connect-chatjs/dist/amazon-connect-chat.js",
  import.meta.url,
);

/** What the page keeps on `window` for the test. */
interface PageState {
  connect: {
    ChatSession: {
      setGlobalConfig(config: unknown): void;
      create(args: unknown): ChatJsSession;
      SessionTypes: { CUSTOMER: string };
    };
  };
  session: ChatJsSession;
  received: Item[];
}

interface ChatJsSession {
  connect(): Promise<{ connectSuccess: boolean }>;
  onMessage(callback: (event: { data: Item }) => void): void;
  sendAttachment(args: { attachment: File }): Promise<unknown>;
  downloadAttachment(args: { attachmentId: string }): Promise<Blob>;
  disconnectParticipant(): Promise<unknown>;
}

Deno.test({
  name: "amazon-connect-chatjs in Chromium against deno task start's stack",
  ignore: ignoreWithoutChromium("chatjs tests"),
  sanitizeResources: false,
  sanitizeOps: false,
  async fn(t) {
    const chatjs = await Deno.readTextFile(CHATJS);
    const pageServer = serveTiny((request) => {
      const path = new URL(request.url).pathname;
      if (path === "/amazon-connect-chat.js") {
        return new Response(chatjs, { headers: { "content-type": "text/javascript" } });
      }
      return new Response(
        '<!doctype html><title>chat widget</title><script src="/amazon-connect-chat.js"></script>',
        { headers: { "content-type": "text/html" } },
      );
    });
    const run = start(onFreePorts("deno"), {
      ATTACHMENT_SCANNING: "on",
      SCAN_DELAY_MS: "700",
      S3_CORS_ORIGINS: pageServer.url,
    });
    const { output } = run;
    const browser = await launchBrowser();
    const foreign: string[] = [];
    try {
      await run.banner;
      const participantUrl = bannerField(output, "Participant Service");
      assert.match(bannerField(output, "Scanning"), /^on \(700 ms/);
      assert.equal(bannerField(output, "Bucket CORS origins"), pageServer.url);

      // Nothing may leave for AWS: chatjs talks to the local service only.
      await browser.context.route(/^https?:\/\/(?!127\.0\.0\.1[:/])/, (route) => {
        foreign.push(route.request().url());
        return route.abort();
      });
      const page = await browser.newPage();
      await page.goto(pageServer.url);

      // A customer front end's backend starts the chat (StartChatContact).
      const started = await startChatContact(participantUrl, "chatjs-instance", "Chris Customer");
      const contactId = started.ContactId;

      await t.step("ChatSession.create + connect(); the websocket comes up", async () => {
        const connected = await page.evaluate(async ({ endpoint, chatDetails }) => {
          const w = window as unknown as PageState;
          w.connect.ChatSession.setGlobalConfig({ region: "us-east-1", endpoint });
          w.received = [];
          w.session = w.connect.ChatSession.create({
            chatDetails,
            type: w.connect.ChatSession.SessionTypes.CUSTOMER,
            options: { region: "us-east-1" },
          });
          w.session.onMessage((event) => w.received.push(event.data));
          return await w.session.connect();
        }, {
          endpoint: participantUrl,
          chatDetails: {
            ContactId: contactId,
            ParticipantId: started.ParticipantId,
            ParticipantToken: started.ParticipantToken,
          },
        });
        assert.equal(connected.connectSuccess, true);
        // connect() resolves before the socket is up and subscribed (only a subscribed socket
        // gets the chat's items): the service tells when it is.
        await eventually(async () => {
          const chats = await fetch(`${participantUrl}/_local/chats`).then((r) => r.json());
          const chat = chats.Chats.find((c: { ContactId: string }) => c.ContactId === contactId);
          assert.equal(chat.Participants[0].OpenWebsockets, 1);
          assert.equal(chat.Participants[0].SubscribedWebsockets, 1);
        }, 20_000);
      });

      const received = () => page.evaluate(() => (window as unknown as PageState).received);
      const waitInPage = async (match: (item: Item) => boolean, what: string) => {
        let found: Item | undefined;
        await eventually(async () => {
          found = (await received()).find(match);
          assert.ok(found, `chatjs's onMessage had no ${what}`);
        }, 20_000);
        return found!;
      };
      const download = (attachmentId: string) =>
        page.evaluate(async (attachmentId) => {
          const w = window as unknown as PageState;
          try {
            const blob = await w.session.downloadAttachment({ attachmentId });
            const bytes = new Uint8Array(await blob.arrayBuffer());
            let binary = "";
            for (const b of bytes) binary += String.fromCharCode(b);
            return { base64: btoa(binary) };
          } catch (error) {
            return { error: (error as { type?: string }).type ?? String(error) };
          }
        }, attachmentId);

      // The agent joins through the development endpoint and opens its own websocket.
      const agentJoin = await joinAsAgent(participantUrl, contactId);
      const agent = await connectParticipant(participantUrl, agentJoin.participantToken);
      const agentSocket = await openChatSocket(agent.websocketUrl);
      await waitInPage(
        (i) => i.Type === "PARTICIPANT_JOINED" && i.ParticipantRole === "AGENT",
        "agent joined event",
      );

      const pdf = randomBytes(120_000, 11);
      await t.step(
        "sendAttachment of a PDF: IN_PROGRESS, then APPROVED, through onMessage",
        async () => {
          await page.evaluate(async (base64) => {
            const w = window as unknown as PageState;
            const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
            const file = new File([bytes], "statement.pdf", { type: "application/pdf" });
            await w.session.sendAttachment({ attachment: file });
          }, Buffer.from(pdf).toString("base64"));
          const first = await waitInPage((i) => i.Type === "ATTACHMENT", "ATTACHMENT item");
          assert.equal(first.ContentType, "application/vnd.amazonaws.connect.message.attachment");
          assert.equal(first.ParticipantRole, "CUSTOMER");
          assert.equal(first.Attachments![0].AttachmentName, "statement.pdf");
          assert.equal(first.Attachments![0].ContentType, "application/pdf");
          assert.equal(first.Attachments![0].Status, "IN_PROGRESS");
          const id = first.Attachments![0].AttachmentId!;
          const approved = await waitInPage(
            (i) =>
              i.Attachments?.[0]?.AttachmentId === id && i.Attachments[0].Status === "APPROVED",
            "APPROVED verdict",
          );
          assert.equal(approved.Id, first.Id);

          const back = await download(id);
          assert.ok(back.base64, JSON.stringify(back));
          assert.equal(await sha256(Buffer.from(back.base64!, "base64")), await sha256(pdf));

          // The agent's websocket saw the same attachment, and its verdict.
          const seen = await agentSocket.waitFor((i) => i.Id === first.Id);
          assert.deepEqual(seen.Attachments![0].AttachmentName, "statement.pdf");
          await agentSocket.waitFor((i) =>
            i.Id === first.Id && i.Attachments![0].Status === "APPROVED"
          );
        },
      );

      await t.step("the agent sends a file back; chatjs receives and downloads it", async () => {
        const reply = randomBytes(33_000, 12);
        const id = await sendFile(participantUrl, agent.connectionToken, {
          name: "signed form.pdf",
          type: "application/pdf",
          bytes: reply,
        });
        const item = await waitInPage(
          (i) => i.Attachments?.[0]?.AttachmentId === id && i.Attachments[0].Status === "APPROVED",
          "agent's attachment, approved",
        );
        assert.equal(item.ParticipantRole, "AGENT");
        assert.equal(item.DisplayName, "Agent Ada");
        const back = await download(id);
        assert.ok(back.base64, JSON.stringify(back));
        assert.equal(await sha256(Buffer.from(back.base64!, "base64")), await sha256(reply));
      });

      await t.step(
        "an EICAR file ends REJECTED in onMessage; downloading it is refused",
        async () => {
          await page.evaluate(async (eicar) => {
            const w = window as unknown as PageState;
            const file = new File([eicar], "eicar.txt", { type: "text/plain" });
            await w.session.sendAttachment({ attachment: file });
          }, EICAR);
          const rejected = await waitInPage(
            (i) =>
              i.Attachments?.[0]?.AttachmentName === "eicar.txt" &&
              i.Attachments[0].Status === "REJECTED",
            "REJECTED verdict",
          );
          const refused = await download(rejected.Attachments![0].AttachmentId!);
          assert.deepEqual(refused, { error: "ValidationException" });
          await agentSocket.waitFor((i) =>
            i.Id === rejected.Id && i.Attachments![0].Status === "REJECTED"
          );
        },
      );

      await t.step("the customer leaves: the agent hears the chat end", async () => {
        await page.evaluate(() => (window as unknown as PageState).session.disconnectParticipant());
        await agentSocket.waitFor((i) =>
          i.ContentType === "application/vnd.amazonaws.connect.event.chat.ended"
        );
        assert.equal(await agentSocket.closed, 1000);
      });

      assert.deepEqual(foreign, [], "no request left for another host");
      assert.deepEqual(browser.pageErrors, []);
    } finally {
      await browser.close();
      await run.stop();
      await pageServer.close();
    }
  },
});
