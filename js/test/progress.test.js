import assert from "node:assert/strict";
import { test } from "node:test";
import { changedProgressIds, isTerminal, progressView, sameProgress, stateText, terminalAnnouncement } from "../src/progress.js";

test("progress view: percent, bytes, speed, ETA like Ollama", () => {
  const v = progressView({ status: "IN-PROGRESS", percentage: 35.2, bytes_done: 586e6, bytes_total: 1.7e9, speed: 4.6e6, eta: 236, stalled: false, terminal: false });
  assert.equal(v.valuenow, 35);
  assert.equal(v.label, "35%");
  assert.equal(v.bytes, "586.0 MB / 1.70 GB");
  assert.equal(v.speed, "4.6 MB/s");
  assert.equal(v.eta, "3m56s");
  assert.equal(v.detail, "586.0 MB / 1.70 GB · 4.6 MB/s · 3m56s left");
  assert.equal(v.stalled, false);
  assert.match(v.valuetext, /^35%, 586\.0 MB \/ 1\.70 GB, 4\.6 MB\/s, 3m56s left$/);
});

test("bytes derive from percentage x model size when the entry lacks them", () => {
  const v = progressView({ status: "IN-PROGRESS", percentage: 50 }, 2e9);
  assert.equal(v.bytesDone, 1e9);
  assert.equal(v.bytesTotal, 2e9);
  assert.equal(v.bytes, "1.00 GB / 2.00 GB");
  // percentage from bytes when percentage is missing
  assert.equal(progressView({ bytes_done: 250, bytes_total: 1000 }).valuenow, 25);
});

test("percent is clamped to 0-100 and floored; COMPLETED is 100", () => {
  assert.equal(progressView({ percentage: 140 }).valuenow, 100);
  assert.equal(progressView({ percentage: -5 }).valuenow, 0);
  assert.equal(progressView({ percentage: 99.9 }).valuenow, 99);
  assert.equal(progressView({ status: "COMPLETED", percentage: 99.9, terminal: true }).valuenow, 100);
  const unknown = progressView({ status: "INITIALIZED" });
  assert.equal(unknown.known, false);
  assert.equal(unknown.valuenow, 0);
  assert.equal(unknown.label, "starting");
});

test("stalled hides speed and ETA and is flagged", () => {
  const v = progressView({ percentage: 40, speed: 1e6, eta: 100, stalled: true, bytes_total: 1e9 });
  assert.equal(v.stalled, true);
  assert.equal(v.speed, "");
  assert.equal(v.eta, "");
  assert.match(v.valuetext, /stalled$/);
  assert.equal(progressView({ percentage: 40, stalled: true, terminal: true, status: "FAILED" }).stalled, false);
});

test("changed ids: only entries whose values changed (fresh objects with equal values are unchanged)", () => {
  const a = { x: { percentage: 1, status: "IN-PROGRESS" }, y: { percentage: 5 }, z: { percentage: 9 } };
  const b = { x: { percentage: 1, status: "IN-PROGRESS" }, y: { percentage: 6 }, w: { percentage: 0 } };
  assert.deepEqual(changedProgressIds(a, b).sort(), ["w", "y", "z"]);
  assert.ok(sameProgress({ percentage: 3 }, { percentage: 3 }));
  assert.ok(!sameProgress({ percentage: 3 }, null));
  assert.deepEqual(changedProgressIds(null, undefined), []);
});

test("terminal detection, state text and announcements", () => {
  assert.ok(isTerminal({ status: "COMPLETED" }));
  assert.ok(isTerminal({ status: "IN-PROGRESS", terminal: true }));
  assert.ok(!isTerminal({ status: "IN-PROGRESS" }));
  assert.equal(stateText("downloading", progressView({ percentage: 42 })), "downloading 42%");
  assert.equal(stateText("available", progressView({ percentage: 3 })), "downloading 3%"); // before the refresh
  assert.equal(stateText("downloading", progressView(null)), "downloading");
  assert.equal(stateText("SOMETHING_NEW", null), "SOMETHING_NEW");
  assert.equal(stateText(null, null), "unknown");
  assert.equal(terminalAnnouncement({ status: "IN-PROGRESS" }, { status: "COMPLETED", terminal: true }, "M"), "Download finished: M.");
  assert.equal(terminalAnnouncement({ status: "IN-PROGRESS" }, { status: "FAILED", terminal: true }, "M"), "Download failed: M.");
  assert.equal(terminalAnnouncement({ status: "COMPLETED", terminal: true }, { status: "COMPLETED", terminal: true }, "M"), null);
  assert.equal(terminalAnnouncement(undefined, { status: "IN-PROGRESS" }, "M"), null);
});
