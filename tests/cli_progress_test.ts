import assert from "node:assert/strict";
import {
  formatBytes,
  formatDuration,
  ProgressBar,
  progressLine,
} from "../src/_cli/progress_bar.ts";

Deno.test("progressLine shows bytes, percentage, rate and time left", () => {
  assert.equal(
    progressLine({ label: "r.pdf", loaded: 0, total: 2e6, elapsedMs: 0, barWidth: 4 }),
    "r.pdf [----]   0% 0 B/2.0 MB 0 B/s ETA --",
  );
  assert.equal(
    progressLine({ label: "r.pdf", loaded: 1.5e6, total: 2e6, elapsedMs: 3000, barWidth: 4 }),
    "r.pdf [###-]  75% 1.5 MB/2.0 MB 500.0 kB/s ETA 1s",
  );
  assert.equal(
    progressLine({ label: "r.pdf", loaded: 1e5, total: 2e7, elapsedMs: 1000, barWidth: 4 }),
    "r.pdf [----]   0% 100.0 kB/20.0 MB 100.0 kB/s ETA 3m19s",
  );
  assert.equal(formatBytes(999_950), "1.0 MB");
  assert.equal(formatDuration(3725), "1h02m");
});

Deno.test("ProgressBar redraws at most every minIntervalMs, always draws the end, and truncates long labels", () => {
  let now = 0;
  let screen = "";
  const bar = new ProgressBar({
    label: "a-very-long-file-name-that-does-not-fit.pdf",
    write: (text) => (screen += text),
    columns: 80,
    now: () => now,
    minIntervalMs: 100,
  });
  bar.update({ loaded: 0, total: 1000 });
  now = 50;
  bar.update({ loaded: 400, total: 1000 }); // too soon: skipped
  now = 150;
  bar.update({ loaded: 500, total: 1000 });
  now = 160;
  bar.update({ loaded: 1000, total: 1000 }); // the end: always drawn
  now = 5000;
  bar.finish();
  const frames = screen.split("\r").filter(Boolean);
  assert.equal(frames.length, 4);
  assert.match(frames[0], /^a-very-long-fil… \[-{24}\] {3}0%/);
  assert.match(frames[1], / 50% 500 B\/1\.0 kB 3\.3 kB\/s ETA 1s/);
  assert.match(frames[2], /100% 1\.0 kB\/1\.0 kB 6\.3 kB\/s ETA 0s/);
  assert.equal(frames[3], frames[2] + "\n", "the rate stays that of the last byte");
  bar.update({ loaded: 1, total: 1000 });
  bar.abort();
  assert.equal(screen.split("\r").filter(Boolean).length, 4, "nothing after the end");
});
