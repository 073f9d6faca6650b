import assert from "node:assert/strict";
import { test } from "node:test";
import { summarize, summaryText } from "../src/summary.js";
import { catalogue, row } from "./helpers.js";

test("summary counts models, local on disk with total size, loaded with RAM", () => {
  const s = summarize(catalogue());
  assert.deepEqual(s, {
    total: 8,
    local: 7,
    cloud: 1,
    onDisk: 4,
    diskBytes: 1928429824 + 4692669824 + 4144753664 + 4920739840,
    loaded: 1,
    ramBytes: 3221225472,
  });
  assert.equal(summaryText(catalogue()), "8 models, 4 local on disk totalling 15.69 GB, 1 loaded (about 3.22 GB RAM)");
});

test("summary of edge cases", () => {
  assert.equal(summaryText([]), "0 models, none local on disk, none loaded");
  const one = [row({ id: "a", downloaded: true, loaded: true, bytes: null, ram: null, state: "loaded" })];
  assert.equal(summaryText(one), "1 model, 1 local on disk totalling 0 B, 1 loaded (about 0 B RAM)");
});
