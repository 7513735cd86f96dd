/// <reference lib="dom" />
/**
 * The development page's script: start a chat, send files with progress, list the chat's
 * attachments. Bundled for the browser with `src/browser.ts`; served as `/dev/page.js`.
 *
 * @module
 */

import {
  acceptedExtensions,
  type ChatAttachment,
  chatAttachments,
  type ChatConnection,
  checkFile,
  downloadFile,
  fetchPolicy,
  startChat,
  UploadError,
  uploadFile,
  type UploadLimits,
} from "../../src/browser.ts";

/** What `/dev/config.json` tells the page. */
interface PageConfig {
  /** The Participant Service the page starts chats on. */
  participantUrl: string;
}

/** One file on its way, as the uploads list shows it. */
interface Upload {
  file: File;
  idempotencyKey: string;
  row: HTMLLIElement;
}

const WORKER = ""; // The worker serves this page: same origin.

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const chatForm = $<HTMLFormElement>("chat-form");
const displayName = $<HTMLInputElement>("display-name");
const startButton = $<HTMLButtonElement>("start-chat");
const chatStatus = $<HTMLParagraphElement>("chat-status");
const dropZone = $<HTMLDivElement>("drop-zone");
const fileInput = $<HTMLInputElement>("file-input");
const dropHint = $<HTMLParagraphElement>("drop-hint");
const limitsText = $<HTMLParagraphElement>("limits");
const uploads = $<HTMLUListElement>("uploads");
const uploadsEmpty = $<HTMLParagraphElement>("uploads-empty");
const transcript = $<HTMLOListElement>("transcript");
const transcriptEmpty = $<HTMLParagraphElement>("transcript-empty");
const announcer = $<HTMLDivElement>("announcer");

let config: PageConfig | undefined;
/** What the worker refuses early (`GET /policy`); unknown, the worker still checks. */
let limits: UploadLimits | undefined;
let chat: ChatConnection | undefined;

/** Tells screen-reader users (and anyone watching the status region) what happened. */
function announce(message: string): void {
  // A fresh node each time, so that a repeated message is announced again.
  announcer.replaceChildren(Object.assign(document.createElement("p"), { textContent: message }));
}

/** `5242880` → `5.0 MB`. */
function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / (1024 * 1024)).toFixed(1)} MB`;
}

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> & { dataset?: Record<string, string> } = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const { dataset, ...rest } = props;
  const node = Object.assign(document.createElement(tag), rest);
  if (dataset) Object.assign(node.dataset, dataset);
  node.append(...children);
  return node;
}

async function loadConfig(): Promise<void> {
  try {
    const response = await fetch("/dev/config.json");
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    config = await response.json() as PageConfig;
  } catch (error) {
    chatStatus.textContent = `Could not load the page's settings (${
      error instanceof Error ? error.message : error
    }).`;
  }
  try {
    limits = await fetchPolicy(WORKER);
    const types = limits.allowedTypes
      ? acceptedExtensions(limits.allowedTypes)
      : "any extension the Amazon Connect instance allows";
    limitsText.textContent = `Up to ${formatBytes(limits.maxBytes)} (${
      limits.maxBytes.toLocaleString("en")
    } bytes) each, within the instance's own limit. Types: ${types}`;
    if (limits.allowedTypes) {
      fileInput.accept = [
        ...acceptedExtensions(limits.allowedTypes).split(" "),
        ...limits.allowedTypes.filter((entry) => entry.includes("/")),
      ].join(",");
    }
  } catch (error) {
    limitsText.textContent = `Could not load the worker's limits (${
      error instanceof Error ? error.message : error
    }); every file goes to the worker, which still checks it.`;
  }
}

async function onStartChat(event: SubmitEvent): Promise<void> {
  event.preventDefault();
  if (!config) return;
  startButton.disabled = true;
  chatStatus.textContent = "Starting a chat…";
  try {
    chat = await startChat(config.participantUrl, { displayName: displayName.value.trim() });
  } catch (error) {
    startButton.disabled = false;
    chatStatus.textContent = `Could not start a chat: ${
      error instanceof Error ? error.message : error
    }`;
    announce(chatStatus.textContent);
    return;
  }
  displayName.disabled = true;
  startButton.textContent = "Chat started";
  chatStatus.dataset.connected = "true";
  chatStatus.textContent = `Connected as ${displayName.value.trim()} (contact ${
    chat.contactId.slice(0, 8)
  }…).`;
  fileInput.disabled = false;
  dropZone.dataset.disabled = "false";
  dropHint.textContent = "or drop them here.";
  announce(`${chatStatus.textContent} You can now attach files.`);
  fileInput.focus();
}

function addFiles(files: Iterable<File>): void {
  for (const file of files) void send(file);
}

/** Shows a new row for a file and sends it, unless it is sure to be refused. */
async function send(file: File): Promise<void> {
  const upload: Upload = { file, idempotencyKey: crypto.randomUUID(), row: el("li") };
  uploadsEmpty.hidden = true;
  uploads.append(upload.row);
  const problem = checkFile(file, limits);
  if (problem) {
    render(upload, "refused", { message: problem.message, code: problem.code });
    announce(`${file.name} refused: ${problem.message}`);
    return;
  }
  await attempt(upload);
}

/** How long the worker may wait for the chat's attachment scanner (its most). */
const SCAN_WAIT_SECONDS = 60;

async function attempt(upload: Upload, focusWhenDone = false): Promise<void> {
  const { file } = upload;
  if (!chat) return;
  render(upload, "uploading", { loaded: 0 });
  try {
    const sent = await uploadFile(file, {
      endpoint: WORKER,
      token: chat.connectionToken,
      idempotencyKey: upload.idempotencyKey,
      waitForScan: SCAN_WAIT_SECONDS,
      onProgress: ({ loaded }) => updateProgress(upload, loaded),
      onSent: () => render(upload, "scanning", { loaded: file.size }),
    });
    render(upload, "done", { loaded: sent.size, scan: sent.status });
    announce(`${sent.name} sent: ${formatBytes(sent.size)}${scanNote(sent.status)}.`);
    await refreshTranscript(sent.attachmentId, focusWhenDone);
  } catch (error) {
    // Anything but an UploadError is a fault of the page itself; offer a retry all the same.
    const failure = error instanceof UploadError
      ? error
      : { retryable: true, message: String(error), code: undefined };
    const state = failure.code === "attachment_rejected"
      ? "rejected"
      : failure.retryable
      ? "failed"
      : "refused";
    render(upload, state, { message: failure.message, code: failure.code });
    announce(`${file.name} ${state}: ${failure.message}`);
    if (state === "rejected") await refreshTranscript("", false);
    if (focusWhenDone) upload.row.querySelector("button")?.focus();
  }
}

/** What the announcement adds for a scan status. */
function scanNote(status: string | undefined): string {
  if (status === "APPROVED") return ", approved by the scanner";
  if (status === "IN_PROGRESS") return ", still being scanned";
  return "";
}

/**
 * A row's state: sending its bytes, `scanning` (every byte sent; the worker completes it and
 * waits for the chat's scanner), `done`, `rejected` by the scanner, `failed` (worth a retry)
 * or `refused`.
 */
type RowState = "uploading" | "scanning" | "done" | "rejected" | "failed" | "refused";

function render(
  upload: Upload,
  state: RowState,
  detail: { loaded?: number; message?: string; code?: string; scan?: string },
): void {
  const { file, row } = upload;
  row.className = "upload";
  row.dataset.state = state;
  row.dataset.name = file.name;
  if (detail.code) row.dataset.code = detail.code;
  else delete row.dataset.code;
  if (detail.scan) row.dataset.scan = detail.scan;
  else delete row.dataset.scan;
  const label = {
    uploading: "Sending…",
    scanning: "Scanning…",
    done: detail.scan === "APPROVED"
      ? "Approved"
      : detail.scan === "IN_PROGRESS"
      ? "Sent, still scanning"
      : "Sent",
    rejected: "Rejected by the scanner",
    failed: "Failed",
    refused: "Refused",
  }[state];
  const children: Node[] = [
    el(
      "div",
      { className: "upload-head" },
      el("span", { className: "upload-name", textContent: file.name }),
      el("span", { className: "upload-state", textContent: label }),
    ),
  ];
  if (state === "uploading" || state === "scanning" || state === "done") {
    const progress = el("progress", { max: file.size || 1, value: detail.loaded ?? 0 });
    progress.setAttribute("aria-label", `Progress of ${file.name}`);
    children.push(progress, el("div", { className: "upload-bytes" }));
  } else {
    children.push(el("p", { className: "upload-message", textContent: detail.message ?? "" }));
    const actions = el("div", { className: "upload-actions" });
    if (state === "failed") {
      const retry = el("button", { type: "button", textContent: "Retry" });
      retry.setAttribute("aria-label", `Retry ${file.name}`);
      retry.addEventListener("click", () => void attempt(upload, true));
      actions.append(retry);
    }
    const dismiss = el("button", {
      type: "button",
      className: "secondary",
      textContent: "Dismiss",
    });
    dismiss.setAttribute("aria-label", `Dismiss ${file.name}`);
    dismiss.addEventListener("click", () => {
      row.remove();
      uploadsEmpty.hidden = uploads.children.length > 0;
      fileInput.focus();
    });
    actions.append(dismiss);
    children.push(actions);
  }
  row.replaceChildren(...children);
  if (detail.loaded !== undefined) updateProgress(upload, detail.loaded);
}

function updateProgress(upload: Upload, loaded: number): void {
  const total = upload.file.size;
  const percent = total === 0 ? 100 : Math.min(100, Math.floor((loaded / total) * 100));
  const progress = upload.row.querySelector("progress");
  const text = upload.row.querySelector<HTMLElement>(".upload-bytes");
  if (!progress || !text) return;
  progress.value = loaded;
  progress.setAttribute("aria-valuetext", `${percent}%`);
  upload.row.dataset.percent = String(percent);
  text.textContent = `${formatBytes(loaded)} of ${formatBytes(total)} · ${
    loaded.toLocaleString("en")
  } of ${total.toLocaleString("en")} bytes · ${percent}%`;
}

/** Shows what the chat's transcript holds; focuses the new item's link when asked. */
async function refreshTranscript(newId: string, focus: boolean): Promise<void> {
  if (!chat || !config) return;
  let items;
  try {
    items = await chatAttachments(config.participantUrl, chat.connectionToken);
  } catch (error) {
    announce(`Could not read the transcript: ${error instanceof Error ? error.message : error}`);
    return;
  }
  transcript.replaceChildren(...items.map((item) =>
    el(
      "li",
      { dataset: { attachmentId: item.AttachmentId } },
      attachmentLink(item),
      el("span", {
        className: "meta",
        textContent: `${item.ContentType} · ${item.Status?.toLowerCase() ?? "status unknown"}`,
      }),
    )
  ));
  transcriptEmpty.hidden = items.length > 0;
  if (focus) {
    transcript.querySelector<HTMLAnchorElement>(
      `li[data-attachment-id="${CSS.escape(newId)}"] a`,
    )?.focus();
  }
}

/** A transcript item's download link; a rejected file (deleted) gets its name alone. */
function attachmentLink(item: ChatAttachment): HTMLElement {
  if (item.Status === "REJECTED") return el("span", { textContent: item.AttachmentName });
  const link = el("a", {
    href: `/attachments/${encodeURIComponent(item.AttachmentId)}`,
    textContent: item.AttachmentName,
    download: item.AttachmentName,
  });
  link.setAttribute("aria-label", `Download ${item.AttachmentName}`);
  link.addEventListener("click", (event) => {
    event.preventDefault();
    void download(item.AttachmentId, item.AttachmentName);
  });
  return link;
}

/** Fetches an attachment back through the worker (the token goes in a header) and saves it. */
async function download(attachmentId: string, name: string): Promise<void> {
  if (!chat) return;
  try {
    const blob = await downloadFile(attachmentId, {
      endpoint: WORKER,
      token: chat.connectionToken,
    });
    const url = URL.createObjectURL(blob);
    el("a", { href: url, download: name }).click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    announce(`${name} downloaded: ${formatBytes(blob.size)}.`);
  } catch (error) {
    announce(`Could not download ${name}: ${error instanceof Error ? error.message : error}`);
  }
}

// A file dropped beside the drop zone would replace the page: ignore it.
addEventListener("dragover", (event) => event.preventDefault());
addEventListener("drop", (event) => event.preventDefault());
chatForm.addEventListener("submit", (event) => void onStartChat(event));
fileInput.addEventListener("change", () => {
  addFiles(fileInput.files ?? []);
  fileInput.value = "";
});
dropZone.addEventListener("dragover", (event) => {
  event.preventDefault();
  if (event.dataTransfer) event.dataTransfer.dropEffect = chat ? "copy" : "none";
  dropZone.dataset.over = String(Boolean(chat));
});
dropZone.addEventListener("dragleave", () => {
  dropZone.dataset.over = "false";
});
dropZone.addEventListener("drop", (event) => {
  event.preventDefault();
  dropZone.dataset.over = "false";
  if (!chat) {
    announce("Start a chat before attaching files.");
    return;
  }
  addFiles(event.dataTransfer?.files ?? []);
});

await loadConfig();
document.body.dataset.ready = "true";
