import assert from "node:assert/strict";
import { test } from "node:test";
import { ACTION_LABELS, actionEnabled, actionsFor, busyLabel, confirmText } from "../src/actions.js";
import { row } from "./helpers.js";

test("actions by state (product.md)", () => {
  assert.deepEqual(actionsFor(row({ id: "a", cloud: true, state: "cloud" })), []);
  assert.deepEqual(actionsFor(row({ id: "a", state: "available" })), ["download"]);
  assert.deepEqual(actionsFor(row({ id: "a", state: "downloading" })), ["cancel"]);
  assert.deepEqual(actionsFor(row({ id: "a", state: "downloaded" })), ["load", "delete-cache"]);
  assert.deepEqual(actionsFor(row({ id: "a", state: "loaded" })), ["unload"]);
  assert.deepEqual(actionsFor(row({ id: "a", state: "SOMETHING_NEW" })), []);
});

test("custom models add edit and delete; delete only for custom", () => {
  assert.deepEqual(actionsFor(row({ id: "a", custom: true, state: "downloaded" })), ["load", "delete-cache", "edit", "delete"]);
  assert.deepEqual(actionsFor(row({ id: "a", custom: true, cloud: true, state: "cloud" })), ["edit", "delete"]);
  for (const state of ["cloud", "available", "downloading", "downloaded", "loaded"]) {
    assert.ok(!actionsFor(row({ id: "a", state })).includes("delete"), state);
    assert.ok(!actionsFor(row({ id: "a", state })).includes("edit"), state);
  }
});

test("cloud rows never offer download, load or unload", () => {
  const acts = actionsFor(row({ id: "a", cloud: true, state: "cloud", custom: true }), "queued");
  for (const a of ["download", "load", "unload", "cancel"]) assert.ok(!acts.includes(a), a);
});

test("a queued or running download offers Cancel, enabled while busy", () => {
  assert.deepEqual(actionsFor(row({ id: "a", state: "available" }), "queued"), ["cancel"]);
  assert.deepEqual(actionsFor(row({ id: "a", state: "downloading" }), "download"), ["cancel"]);
  assert.equal(actionEnabled("cancel", "download"), true);
  assert.equal(actionEnabled("cancel", "queued"), true);
  assert.equal(actionEnabled("cancel", "cancel"), false); // already cancelling
  assert.equal(actionEnabled("load", "load"), false);
  assert.equal(actionEnabled("edit", "download"), false);
  assert.equal(actionEnabled("load", null), true);
});

test("labels", () => {
  assert.equal(ACTION_LABELS["delete-cache"], "Delete cache");
  assert.equal(busyLabel("load"), "Loading…");
  assert.equal(busyLabel("queued"), "Queued");
  assert.equal(busyLabel("delete_cache"), "Deleting cache…");
  assert.equal(busyLabel("frobnicate"), "frobnicate…");
  assert.equal(busyLabel(""), "");
  assert.match(confirmText("delete-cache", row({ id: "a", name: "M" }), "4.69 GB"), /“M” \(4\.69 GB\)/);
  assert.match(confirmText("delete", row({ id: "a", name: "M" })), /Delete the custom model “M”/);
});
