// The row list on its own (no view): plain items, a render callback, a manual frame clock.
import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Window } from "happy-dom";
import { RowList, WINDOW_MIN, newSlot } from "../src/rowlist.js";

/** @type {Window} */ let win;
/** @type {Document} */ let doc;
/** @type {RowList | null} */ let list = null;

beforeEach(() => {
  win = new Window({ url: "http://127.0.0.1/" });
  doc = /** @type {any} */ (win.document);
});
afterEach(async () => {
  if (list) list.destroy();
  list = null;
  await win.happyDOM.abort();
  win.close();
});

function frames() {
  /** @type {Map<number, () => void>} */
  const pending = new Map();
  let next = 1;
  return {
    raf: (fn) => (pending.set(next, fn), next++),
    cancelRaf: (id) => pending.delete(id),
    flush() {
      for (let round = 0; round < 10 && pending.size; round++) {
        const fns = [...pending.values()];
        pending.clear();
        for (const fn of fns) fn();
      }
    },
    pending: () => pending.size,
  };
}

function setup() {
  const table = doc.createElement("table");
  const thead = doc.createElement("thead");
  thead.appendChild(doc.createElement("tr"));
  const tbody = doc.createElement("tbody");
  table.append(thead, tbody);
  const scroller = doc.createElement("div");
  scroller.appendChild(table);
  doc.body.appendChild(scroller);
  const f = frames();
  let builds = 0;
  /** @param {any} item */
  const render = (item) => {
    if (!item.tr) {
      builds += 1;
      item.tr = doc.createElement("tr");
      item.tr.setAttribute("data-id", item.id);
      item.tr.appendChild(doc.createElement("td")).appendChild(doc.createElement("button"));
    }
    return item.tr;
  };
  list = new RowList({ tbody, scroller, thead, table, render, raf: f.raf, cancelRaf: f.cancelRaf });
  return { list, tbody, table, thead, scroller, frames: f, builds: () => builds };
}

/** @param {number} n @param {(i: number) => boolean} [match] */
function items(n, match = () => true) {
  return Array.from({ length: n }, (_, i) => ({ id: `r${i}`, match: match(i), slot: newSlot(), tr: /** @type {any} */ (null) }));
}
const ids = (tbody) => [...tbody.querySelectorAll("tr[data-id]")].map((tr) => tr.getAttribute("data-id"));

test("small lists: every row in order, non-matching ones hidden, no spacers or ARIA indexes", () => {
  const { list, tbody, table } = setup();
  const all = items(10, (i) => i % 2 === 0);
  list.show(all);
  assert.deepEqual(ids(tbody), all.map((x) => x.id));
  assert.deepEqual([...tbody.children].filter((tr) => tr.hidden).length, 5);
  assert.equal(tbody.querySelector(".pmm-spacer"), null);
  assert.equal(table.getAttribute("aria-rowcount"), null);
  assert.equal(list.windowed, false);
  assert.ok(all.every((x) => list.isMounted(x)));
  // A re-match of the same list only flips `hidden`, on the same nodes.
  const nodes = all.map((x) => x.tr);
  for (const x of all) x.match = true;
  list.show(all);
  assert.equal([...tbody.children].filter((tr) => tr.hidden).length, 0);
  assert.deepEqual(all.map((x) => x.tr), nodes);
});

test("over WINDOW_MIN matching items only a window is rendered, with spacers and ARIA indexes", () => {
  const { list, tbody, table, thead, builds } = setup();
  const all = items(3000);
  list.show(all);
  const shown = ids(tbody);
  assert.ok(shown.length > 5 && shown.length < 100, `${shown.length}`);
  assert.deepEqual(shown, all.slice(0, shown.length).map((x) => x.id));
  assert.equal(builds(), shown.length, "rows are built only when shown");
  assert.equal(table.getAttribute("aria-rowcount"), "3001");
  assert.equal(table.getAttribute("data-windowed"), "true");
  assert.equal(thead.firstElementChild.getAttribute("aria-rowindex"), "1");
  assert.equal(all[0].tr.getAttribute("aria-rowindex"), "2");
  const spacers = tbody.querySelectorAll("tr.pmm-spacer");
  assert.equal(spacers.length, 1);
  assert.equal(parseFloat(spacers[0].style.height), 46 * (3000 - shown.length));
});

test("only matching items count for windowing; at most WINDOW_MIN matches are all rendered", () => {
  const { list, tbody, table } = setup();
  const all = items(3000, (i) => i < WINDOW_MIN);
  list.show(all);
  assert.equal(ids(tbody).length, WINDOW_MIN);
  assert.equal(table.getAttribute("aria-rowcount"), null);
  assert.equal(tbody.querySelectorAll("[hidden]").length, 0);
});

test("scrolling moves the window once per frame, reusing row nodes; destroy cancels the frame", () => {
  const { list, tbody, scroller, frames, builds } = setup();
  const all = items(3000);
  list.show(all);
  frames.flush();
  const first = all[0].tr;
  scroller.scrollTop = 46 * 1500;
  scroller.dispatchEvent(new win.Event("scroll"));
  scroller.dispatchEvent(new win.Event("scroll"));
  assert.equal(frames.pending(), 1);
  frames.flush();
  assert.ok(ids(tbody).includes("r1500"));
  assert.equal(all[0].tr.isConnected, false);
  const [top] = tbody.querySelectorAll("tr.pmm-spacer");
  assert.equal(tbody.firstElementChild, top);
  scroller.scrollTop = 0;
  scroller.dispatchEvent(new win.Event("scroll"));
  frames.flush();
  assert.equal(all[0].tr, first);
  assert.ok(first.isConnected);
  const built = builds();
  scroller.scrollTop = 46 * 10;
  scroller.dispatchEvent(new win.Event("scroll"));
  list.destroy();
  assert.equal(frames.pending(), 0);
  assert.equal(builds(), built);
});

test("a focused row stays mounted just outside the window; drop() takes a row out", () => {
  const { list, tbody, scroller, frames } = setup();
  const all = items(3000);
  list.show(all);
  const btn = all[2].tr.querySelector("button");
  btn.focus();
  scroller.scrollTop = 46 * 1500;
  scroller.dispatchEvent(new win.Event("scroll"));
  frames.flush();
  assert.equal(ids(tbody)[0], "r2");
  assert.equal(doc.activeElement, btn);
  assert.equal(all[2].tr.getAttribute("aria-rowindex"), "4");
  list.drop(all[2]);
  assert.equal(all[2].tr.isConnected, false);
  assert.equal(list.isMounted(all[2]), false);
});

test("a re-order moves rows (bulk when many) and keeps every node and the focus", () => {
  const { list, tbody } = setup();
  const all = items(400);
  list.show(all);
  const nodes = all.map((x) => x.tr);
  const btn = all[200].tr.querySelector("button");
  btn.focus();
  const reversed = [...all].reverse();
  list.show(reversed);
  assert.deepEqual(ids(tbody), reversed.map((x) => x.id));
  assert.deepEqual(all.map((x) => x.tr), nodes);
  assert.equal(doc.activeElement, btn);
  // A single move (not bulk).
  const swapped = [...reversed];
  [swapped[0], swapped[1]] = [swapped[1], swapped[0]];
  list.show(swapped);
  assert.deepEqual(ids(tbody), swapped.map((x) => x.id));
});
