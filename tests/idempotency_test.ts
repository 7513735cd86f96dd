import assert from "node:assert/strict";
import { uploadFingerprint, UploadMemory } from "../worker/idempotency.ts";

Deno.test("UploadMemory recalls by token and key, expires entries and stays bounded", async () => {
  let now = 0;
  const memory = new UploadMemory({ maxEntries: 2, ttlMs: 1000, now: () => now });
  const upload = {
    attachmentId: "a1",
    fingerprint: uploadFingerprint("a.pdf", "application/pdf", 3),
  };
  await memory.remember("token-1", "k", { ...upload, state: "uploaded" });
  assert.equal((await memory.recall("token-1", "k"))?.state, "uploaded");
  assert.equal(await memory.recall("token-2", "k"), undefined, "another token sees nothing");
  await memory.remember("token-1", "k", { ...upload, state: "completed" });
  assert.equal((await memory.recall("token-1", "k"))?.state, "completed");
  await memory.remember("token-1", "k2", { ...upload, state: "uploaded" });
  await memory.remember("token-1", "k3", { ...upload, state: "uploaded" });
  assert.equal(memory.size, 2);
  assert.equal(await memory.recall("token-1", "k"), undefined, "the oldest went first");
  now = 1001;
  assert.equal(await memory.recall("token-1", "k3"), undefined, "expired");
});

Deno.test("UploadMemory drops expired entries as new ones come, without their being looked up", async () => {
  let now = 0;
  const memory = new UploadMemory({ maxEntries: 1000, ttlMs: 1000, now: () => now });
  const upload = { attachmentId: "a", fingerprint: "f", state: "completed" as const };
  for (let i = 0; i < 50; i++) await memory.remember("token", `old-${i}`, upload);
  now = 600;
  for (let i = 0; i < 50; i++) await memory.remember("token", `new-${i}`, upload);
  // Refreshing an old entry moves it to the back: it lives on with the new ones.
  await memory.remember("token", "old-0", upload);
  assert.equal(memory.size, 100);
  now = 1001;
  await memory.remember("token", "later", upload);
  assert.equal(memory.size, 52, "the 49 old entries left, unasked");
  assert.equal((await memory.recall("token", "old-0"))?.attachmentId, "a");
  now = 1601;
  await memory.remember("token", "last", upload);
  assert.equal(memory.size, 2);
});
