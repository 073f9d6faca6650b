// The wire contract: every action the view can send is in WIRE_ACTIONS (which Python checks
// against its own registry), and nothing else ever leaves the view.
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";
import { Window } from "happy-dom";
import { ACTION_LABELS, WIRE_ACTIONS } from "../src/actions.js";
import { createSync } from "../src/sync.js";
import { createView } from "./helpers.js";
import { FakeModel, catalogue, fakeClock, row } from "./helpers.js";

const src = join(dirname(fileURLToPath(import.meta.url)), "..", "src");

test("WIRE_ACTIONS is a literal list of distinct double-quoted names (Python parses it)", () => {
  const text = readFileSync(join(src, "actions.js"), "utf8");
  const m = /export const WIRE_ACTIONS = \[([^\]]*)\];/.exec(text);
  assert.ok(m, "WIRE_ACTIONS literal not found");
  const names = [...m[1].matchAll(/"([^"]+)"/g)].map((x) => x[1]);
  assert.deepEqual(names, WIRE_ACTIONS);
  assert.equal(new Set(names).size, names.length);
  assert.equal(m[1].replace(/"[^"]+"/g, "").replace(/[\s,]/g, ""), "", "only double-quoted strings");
});

test("send refuses an action name outside WIRE_ACTIONS and sends the known ones as {type, action, ...}", () => {
  const model = new FakeModel();
  const sync = createSync(/** @type {any} */ (model), fakeClock(), 100);
  assert.throws(() => sync.send("explode", { id: "x" }), /not in WIRE_ACTIONS/);
  assert.throws(() => sync.send("edit", { id: "x" }), /not in WIRE_ACTIONS/, "edit is local: it opens the form");
  assert.equal(model.sent.length, 0);
  for (const action of WIRE_ACTIONS) sync.send(action, { id: "m" });
  assert.deepEqual(model.sent.map((m) => m.action), WIRE_ACTIONS);
  assert.deepEqual(model.sent[0], { type: "action", action: "refresh", id: "m" });
});

test("every row button's action is either sent (in WIRE_ACTIONS) or handled in the view", () => {
  const local = new Set(["edit"]);
  for (const action of Object.keys(ACTION_LABELS)) assert.ok(WIRE_ACTIONS.includes(action) || local.has(action), action);
});

test("the view sends model messages only through sync.send (no other model.send in js/src)", () => {
  for (const f of readdirSync(src).filter((n) => n.endsWith(".js"))) {
    const text = readFileSync(join(src, f), "utf8");
    const sends = text.match(/\bmodel\.send\(/g) || [];
    assert.equal(sends.length, f === "sync.js" ? 1 : 0, f);
    for (const m of text.matchAll(/\bsend\("([^"]+)"/g)) assert.ok(WIRE_ACTIONS.includes(m[1]), `${f} sends "${m[1]}"`);
  }
});

test("clicking every enabled button of every row and toolbar sends only WIRE_ACTIONS names", () => {
  const win = new Window({ url: "http://127.0.0.1/" });
  const doc = /** @type {any} */ (win.document);
  const el = doc.createElement("div");
  doc.body.appendChild(el);
  const model = new FakeModel({ models: [...catalogue(), row({ id: "busy", name: "Busy", state: "downloaded" })], errors: { l3: "boom" } });
  const destroy = createView(/** @type {any} */ (model), el, fakeClock());
  // happy-dom reports a listener's exception instead of throwing it: collect those.
  const errors = [];
  win.addEventListener("error", (ev) => errors.push(String(ev.error || ev.message)));
  win.console.error = (...a) => errors.push(a.map(String).join(" "));
  const click = (node) => node.dispatchEvent(new win.MouseEvent("click", { bubbles: true }));
  const seen = new Set();
  // Several passes: confirmations and forms open new buttons.
  for (let pass = 0; pass < 3; pass++) {
    for (const btn of [...el.querySelectorAll("button[data-action]")]) {
      if (btn.disabled || !btn.isConnected) continue;
      seen.add(btn.getAttribute("data-action"));
      click(btn);
      const yes = el.querySelector('button[data-action="confirm"]');
      if (yes) {
        seen.add("confirm");
        click(yes);
      }
      const form = el.querySelector("form.pmm-form");
      if (form && !form.hidden) click(el.querySelector('button[data-action="close-form"]'));
    }
  }
  assert.deepEqual(errors, []);
  for (const m of model.sent) assert.ok(WIRE_ACTIONS.includes(m.action), m.action);
  assert.ok(model.sent.some((m) => m.action === "retry"), "the (hidden) Retry button was clicked too");
  for (const a of ["download", "cancel", "load", "unload", "delete-cache", "delete", "refresh", "unload-all", "confirm"]) assert.ok(seen.has(a), `never clicked ${a}`);
  assert.ok(model.sent.some((m) => m.action === "delete-cache"), "a confirmed delete-cache was sent");
  destroy();
  win.close();
});
